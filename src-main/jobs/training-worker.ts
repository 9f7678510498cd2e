// A training run on its own thread: the main process's event loop (the API, the window) stays free
// while steps take seconds to hours. It opens its own connection to the library (SQLite in WAL mode
// takes a writer per connection) and reports every step to the queue that started it.
import type { RunPreview, RunStep, TrainingRun } from '../../src-preload/contract/training.js';
import { toApiError } from '../common/app-error.js';
import { Library } from '../library/library.js';
import { runInThisProcess } from '../pipeline/learn/learning-service.js';
import { workerPort } from './worker-port.js';
import type { VisionConfig } from '../models/vision.js';

export interface WorkerInput {
  dataDir: string;
  runId: string;
  officialEncoder?: VisionConfig;
}

export type WorkerMessage =
  | { type: 'step'; run: TrainingRun; step: RunStep }
  | { type: 'previews'; run: TrainingRun; previews: RunPreview[] }
  | { type: 'log'; line: string }
  | { type: 'end'; error: ReturnType<typeof toApiError> | null };

const { input, signal, post, close } = workerPort<WorkerInput, WorkerMessage>();

const library = Library.open(input.dataDir, { reconcile: false });
try {
  await runInThisProcess(library, input.runId, {
    signal,
    onStep: (run, step) => post({ type: 'step', run, step }),
    onPreviews: (run, previews) => post({ type: 'previews', run, previews }),
    onLog: (line) => post({ type: 'log', line }),
    ...(input.officialEncoder ? { officialEncoder: input.officialEncoder } : {}),
  });
  post({ type: 'end', error: null });
} catch (err) {
  post({ type: 'end', error: toApiError(err) });
} finally {
  library.close();
  close();
}
