import { join } from 'node:path';
import { JobManager } from '../jobs/job-manager.js';
import { TrainingQueue } from '../jobs/training-queue.js';
import type { VisionConfig } from '../models/vision.js';
import { Library } from '../library/library.js';
import { createDispatcher, type Dispatch } from './dispatcher.js';
import { EventBus } from './event-bus.js';
import { MaskService } from '../pipeline/mask/mask-service.js';
import { createHandlers } from './handlers.js';
import { UploadStore } from './upload-store.js';

export interface Backend {
  dataDir: string;
  library: Library;
  dispatch: Dispatch;
  events: EventBus;
  uploads: UploadStore;
  training: TrainingQueue;
  close(): Promise<void>;
}

/** Everything behind the API contract, independent of the transport that serves it. */
export function createBackend(options: {
  dataDir: string;
  /** the "official" encoder's architecture (tests: a small ViT) */ officialEncoder?: VisionConfig;
}): Backend {
  const library = Library.open(options.dataDir);
  const events = new EventBus();
  const jobs = new JobManager((info) => events.emit('jobs', 'onUpdate', info));
  const uploads = new UploadStore(join(options.dataDir, 'uploads'));
  const training = new TrainingQueue(
    library,
    (run, step, previews) => {
      events.emit('training', 'onProgress', { run, step, previews });
      if (run.state === 'succeeded' && !step) events.emit('library', 'onChanged', { reason: 'updated' });
    },
    options.officialEncoder ? { officialEncoder: options.officialEncoder } : {},
  );
  const handlers = createHandlers({ library, masks: new MaskService(library), jobs, uploads, events, training });
  const dispatch = createDispatcher(handlers, { onInternalError: (err) => console.error('[api]', err) });
  // runs queued before a restart (or by the CLI) start now
  training.pump();
  return {
    dataDir: options.dataDir,
    library,
    dispatch,
    events,
    uploads,
    training,
    close: async () => {
      await training.close();
      library.close();
    },
  };
}
