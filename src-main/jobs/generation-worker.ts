// A composition drawn on its own thread: the API and the window stay free while the UNet runs. It
// opens its own connection to the library, stores the images there and reports each step (with a
// cheap preview of the latents) to the job that started it.
import { toApiError } from '../common/app-error.js';
import { Library } from '../library/library.js';
import { type ComposeRequest, composeImages } from '../pipeline/compose/compose-service.js';
import type { WorkerEnd } from './worker-job.js';
import { workerPort } from './worker-port.js';

export interface GenerationWorkerInput {
  dataDir: string;
  request: ComposeRequest;
}

export type GenerationWorkerMessage =
  { type: 'progress'; step: number; total: number; etaMs: number; preview: string } | { type: 'note'; text: string } | WorkerEnd<string[]>;

const { input, signal, post, close } = workerPort<GenerationWorkerInput, GenerationWorkerMessage>();

const library = Library.open(input.dataDir, { reconcile: false });
try {
  const { generations } = await composeImages(library, input.request, {
    signal,
    onNote: (text) => post({ type: 'note', text }),
    onProgress: (p) => {
      void p
        .preview()
        .then((png) => post({ type: 'progress', step: p.step, total: p.total, etaMs: p.etaMs, preview: `data:image/png;base64,${png.toString('base64')}` }));
    },
  });
  post({ type: 'end', result: generations.map((g) => g.id), error: null });
} catch (err) {
  post({ type: 'end', result: null, error: toApiError(err) });
} finally {
  library.close();
  close();
}
