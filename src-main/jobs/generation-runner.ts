// Runs a composition as a job: on a worker thread (the built code, like training's), in the "gpu"
// lane so one drawing runs at a time, with each step and its preview published as an event.
import type { ComposeRequest } from '../pipeline/compose/compose-service.js';
import type { GenerationWorkerInput, GenerationWorkerMessage } from './generation-worker.js';
import type { JobContext } from './job-manager.js';
import { runOnWorker } from './worker-job.js';

export interface GenerationEvents {
  onStep(step: { step: number; total: number; etaMs: number; preview: string }): void;
  onNote(note: string): void;
}

/** Draws the composition on a worker; resolves with the new generations' ids. Cancel stops it between steps. */
export function drawOnWorker(dataDir: string, request: ComposeRequest, ctx: JobContext, events: GenerationEvents): Promise<string[]> {
  const input: GenerationWorkerInput = { dataDir, request };
  return runOnWorker<GenerationWorkerInput, GenerationWorkerMessage, string[]>('generation-worker.js', input, ctx, 'drawing', (m) => {
    if (m.type === 'progress') {
      ctx.progress(m.step, m.total, `Step ${m.step} of ${m.total}`);
      events.onStep(m);
    } else events.onNote(m.text);
  });
}
