// A concept's report card made on its own thread: drawing the set and running the metric networks keep the
// API and the window free. It opens its own library connection and stores the report there.
import { toApiError } from '../common/app-error.js';
import { Library } from '../library/library.js';
import { type EvaluateProgress, type EvaluateRequest, evaluateConcept } from '../pipeline/evaluate/evaluate-concept.js';
import type { WorkerEnd } from './worker-job.js';
import { workerPort } from './worker-port.js';

export interface EvaluationWorkerInput {
  dataDir: string;
  request: EvaluateRequest;
}

export type EvaluationWorkerMessage = ({ type: 'progress' } & EvaluateProgress) | { type: 'note'; text: string } | WorkerEnd<string>;

const { input, signal, post, close } = workerPort<EvaluationWorkerInput, EvaluationWorkerMessage>();

const library = Library.open(input.dataDir, { reconcile: false });
try {
  const report = await evaluateConcept(library, input.request, {
    signal,
    onNote: (text) => post({ type: 'note', text }),
    onProgress: (p) => post({ type: 'progress', ...p }),
  });
  post({ type: 'end', result: report.id, error: null });
} catch (err) {
  post({ type: 'end', result: null, error: toApiError(err) });
} finally {
  library.close();
  close();
}
