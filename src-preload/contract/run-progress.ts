// How a training run's progress is told, the same on the Training screen and in the CLI (the renderer
// can import nothing but src-preload, so the one copy lives here).
import type { LearnSettings, RunStep } from './training.js';

/**
 * The loss as it is shown: each step draws its own t, so raw losses jump by orders of magnitude; an
 * exponential moving average (with the start-up bias removed) shows the trend.
 */
export function smoothed(values: readonly number[], weight = 0.9): number[] {
  const out: number[] = [];
  let avg = 0;
  values.forEach((v, i) => {
    avg = weight * avg + (1 - weight) * v;
    out.push(avg / (1 - weight ** (i + 1)));
  });
  return out;
}

/** Time per step over the last ten steps, and what is left at that pace. */
export function runPace(steps: readonly RunStep[], totalSteps: number): { msPerStep: number; etaMs: number } | null {
  const recent = steps.slice(-10);
  if (recent.length === 0) return null;
  const msPerStep = recent.reduce((a, s) => a + s.ms, 0) / recent.length;
  return { msPerStep, etaMs: Math.max(0, totalSteps - recent[recent.length - 1]!.step) * msPerStep };
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const formatSpeed = (msPerStep: number) => (msPerStep >= 1000 ? `${(msPerStep / 1000).toFixed(1)} s/step` : `${(1000 / msPerStep).toFixed(1)} steps/s`);

/** The last Stage I step, after which Stage II begins (null when the run has only one stage). */
export const stageBoundary = (s: Pick<LearnSettings, 'steps1' | 'steps2'>): number | null => (s.steps1 > 0 && s.steps2 > 0 ? s.steps1 : null);

/** Memory in MiB as a person reads it ("812 MB", "9.4 GB"). */
export const formatMemory = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`);

/** What a run's memory was: after its last step, and the most after any step. */
export function memoryOf(steps: readonly RunStep[]): { lastMb: number; peakMb: number } | null {
  const known = steps.map((s) => s.rssMb).filter((m): m is number => m !== null);
  return known.length ? { lastMb: known.at(-1)!, peakMb: Math.max(...known) } : null;
}
