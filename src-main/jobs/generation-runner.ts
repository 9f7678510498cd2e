// Runs a composition as a job: on a worker thread (the built code, like training's), in the "gpu"
// lane so one drawing runs at a time, with each step and its preview published as an event.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError } from '../common/app-error.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { ComposeRequest } from '../pipeline/compose/compose-service.js';
import type { GenerationWorkerInput, GenerationWorkerMessage } from './generation-worker.js';
import type { JobContext } from './job-manager.js';

const WORKER_SCRIPT = join(PROJECT_ROOT, 'out', 'src-main', 'jobs', 'generation-worker.js');

export interface GenerationEvents {
  onStep(step: { step: number; total: number; etaMs: number; preview: string }): void;
  onNote(note: string): void;
}

/** Draws the composition on a worker; resolves with the new generations' ids. Cancel stops it between steps. */
export function drawOnWorker(dataDir: string, request: ComposeRequest, ctx: JobContext, events: GenerationEvents): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const input: GenerationWorkerInput = { dataDir, request };
    const worker = new Worker(WORKER_SCRIPT, { workerData: input });
    let ended = false;
    const cancel = () => worker.postMessage({ type: 'cancel' });
    ctx.signal.addEventListener('abort', cancel, { once: true });
    worker.on('message', (m: GenerationWorkerMessage) => {
      if (m.type === 'progress') {
        ctx.progress(m.step, m.total, `Step ${m.step} of ${m.total}`);
        events.onStep(m);
      } else if (m.type === 'note') {
        events.onNote(m.text);
      } else {
        ended = true;
        if (m.error) reject(new AppError(m.error.code, m.error.message));
        else resolve(m.generationIds);
      }
    });
    worker.on('error', (err) => reject(new AppError('internal', `The drawing thread stopped: ${err.message}`)));
    worker.on('exit', () => {
      ctx.signal.removeEventListener('abort', cancel);
      if (!ended) reject(new AppError('internal', 'The drawing thread ended without a result.'));
    });
  });
}
