// A job's work on a worker thread (the built code): cancel reaches it as a message, its progress and notes come
// back as messages, and its one "end" message settles the job with a result or the error it carried.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ApiError } from '../../src-preload/contract/common.js';
import { AppError } from '../common/app-error.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { JobContext } from './job-manager.js';

export type WorkerEnd<R> = { type: 'end'; result: R | null; error: ApiError | null };

/** `script` is a module of out/src-main/jobs; `what` names the thread in errors ("drawing", "evaluation"). */
export function runOnWorker<Input, Message extends { type: string }, Result>(
  script: string,
  input: Input,
  ctx: JobContext,
  what: string,
  onMessage: (m: Exclude<Message, WorkerEnd<Result>>) => void,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(PROJECT_ROOT, 'out', 'src-main', 'jobs', script), { workerData: input });
    let ended = false;
    const cancel = () => worker.postMessage({ type: 'cancel' });
    ctx.signal.addEventListener('abort', cancel, { once: true });
    worker.on('message', (m: Message | WorkerEnd<Result>) => {
      if (m.type !== 'end') return onMessage(m as Exclude<Message, WorkerEnd<Result>>);
      ended = true;
      const end = m as WorkerEnd<Result>;
      if (end.error) reject(new AppError(end.error.code, end.error.message));
      else resolve(end.result as Result);
    });
    worker.on('error', (err) => reject(new AppError('internal', `The ${what} thread stopped: ${err.message}`)));
    worker.on('exit', () => {
      ctx.signal.removeEventListener('abort', cancel);
      if (!ended) reject(new AppError('internal', `The ${what} thread ended without a result.`));
    });
  });
}
