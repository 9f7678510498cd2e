// Runs a concept's report card as a job in the "gpu" lane (it draws images), on a worker thread; its progress
// is the job's: steps while drawing, images while measuring.
import type { EvaluateRequest } from '../pipeline/evaluate/evaluate-concept.js';
import type { EvaluationWorkerInput, EvaluationWorkerMessage } from './evaluation-worker.js';
import type { JobContext } from './job-manager.js';
import { runOnWorker } from './worker-job.js';

/** Resolves with the stored report's id; a note (a missing metric model, the device) shows as the job's message. */
export function evaluateOnWorker(dataDir: string, request: EvaluateRequest, ctx: JobContext): Promise<string> {
  const input: EvaluationWorkerInput = { dataDir, request };
  let at = { done: 0, total: 0 };
  return runOnWorker<EvaluationWorkerInput, EvaluationWorkerMessage, string>('evaluation-worker.js', input, ctx, 'evaluation', (m) => {
    if (m.type === 'progress') {
      at = { done: m.done, total: m.total };
      ctx.progress(m.done, m.total, m.message);
    } else ctx.progress(at.done, at.total, m.text);
  });
}
