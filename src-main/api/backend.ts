import { join } from 'node:path';
import { JobManager } from '../jobs/job-manager.js';
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
  close(): void;
}

/** Everything behind the API contract, independent of the transport that serves it. */
export function createBackend(options: { dataDir: string }): Backend {
  const library = Library.open(options.dataDir);
  const events = new EventBus();
  const jobs = new JobManager((info) => events.emit('jobs', 'onUpdate', info));
  const uploads = new UploadStore(join(options.dataDir, 'uploads'));
  const handlers = createHandlers({ library, masks: new MaskService(library), jobs, uploads, events });
  const dispatch = createDispatcher(handlers, { onInternalError: (err) => console.error('[api]', err) });
  return { dataDir: options.dataDir, library, dispatch, events, uploads, close: () => library.close() };
}
