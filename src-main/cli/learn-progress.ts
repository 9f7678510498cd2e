// How a learning run shows on a terminal: a progress bar with the stage, the smoothed loss, speed and
// ETA when stderr is a terminal; one plain line per step when it is not (logs, CI, pipes).
import cliProgress from 'cli-progress';
import { smoothed, type RunStep, type TrainingRun } from '../../src-preload/contract/training.js';
import type { CliIo } from './command.js';

export interface LearnProgress {
  step(run: TrainingRun, step: RunStep): void;
  log(line: string): void;
  stop(): void;
}

export function learnProgress(io: CliIo, interactive = process.stderr.isTTY === true): LearnProgress {
  const losses: number[] = [];
  const times: number[] = [];
  let bar: cliProgress.SingleBar | null = null;
  const describe = (run: TrainingRun, s: RunStep) => {
    losses.push(s.loss);
    times.push(s.ms);
    const recent = times.slice(-10);
    const perStep = recent.reduce((a, b) => a + b, 0) / recent.length;
    const eta = (run.totalSteps - s.step) * perStep;
    return { stage: s.stage === 1 ? 'Stage I' : 'Stage II', loss: s.loss.toFixed(4), avg: smoothed(losses).at(-1)!.toFixed(4), speed: formatSpeed(perStep), eta: formatDuration(eta) };
  };
  return {
    step(run, s) {
      const d = describe(run, s);
      if (!interactive) {
        io.err(`${d.stage} · step ${s.step}/${run.totalSteps} · loss ${d.loss} (smoothed ${d.avg}) · ${d.speed} · ETA ${d.eta}`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: ' {stage} |{bar}| {value}/{total} steps · loss {avg} (this step {loss}) · {speed} · ETA {eta_text}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(run.totalSteps, s.step - 1, { ...d, eta_text: d.eta });
      }
      bar.update(s.step, { ...d, eta_text: d.eta });
    },
    log(line) {
      if (bar) bar.stop();
      bar = null;
      io.err(line);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const formatSpeed = (msPerStep: number) => (msPerStep >= 1000 ? `${(msPerStep / 1000).toFixed(1)} s/step` : `${(1000 / msPerStep).toFixed(1)} steps/s`);
