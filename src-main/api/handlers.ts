import type { ApiHandlers } from '../../src-preload/contract/index.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { Library } from '../library/library.js';
import { importPhotos, photoFromPath } from '../pipeline/ingest/import-photos.js';
import { runDoctor } from '../system/doctor.js';
import type { EventBus } from './event-bus.js';
import type { UploadStore } from './upload-store.js';

export interface HandlerContext {
  library: Library;
  jobs: JobManager;
  uploads: UploadStore;
  events: EventBus;
}

/** One handler per contract method; transports call these through the dispatcher only. */
export function createHandlers({ library, jobs, uploads, events }: HandlerContext): ApiHandlers {
  return {
    library: {
      list: () => ({ images: library.listImages(), concepts: library.listConcepts() }),
      stats: () => ({ dataDir: library.dataDir, ...library.stats() }),
      deleteImage: async ({ id }) => {
        const result = await library.deleteImage(id);
        events.emit('library', 'onChanged', { reason: 'deleted' });
        return result;
      },
      deleteConcept: async ({ id }) => {
        const result = await library.deleteConcept(id);
        events.emit('library', 'onChanged', { reason: 'deleted' });
        return result;
      },
    },
    images: {
      import: async ({ sources }) => {
        const photos = sources.map((s) => (s.kind === 'path' ? photoFromPath(s.path) : uploads.take(s.uploadId, s.name)));
        const title = photos.length === 1 ? `Import ${photos[0]!.name}` : `Import ${photos.length} photos`;
        const { jobId, result } = await jobs.run('import', title, (ctx) =>
          importPhotos(library, photos, {
            signal: ctx.signal,
            onProgress: (p) => ctx.progress(p.done, p.total, p.message),
          }),
        );
        if (result.some((r) => r.status === 'imported')) events.emit('library', 'onChanged', { reason: 'imported' });
        return { jobId, results: result };
      },
    },
    jobs: {
      list: () => jobs.list(),
      cancel: ({ id }) => ({ cancelled: jobs.cancel(id) }),
    },
    system: {
      doctor: () => runDoctor(library.dataDir),
    },
  };
}
