import { z } from 'zod';
import { apiError, importSource } from './common.js';
import { imageRecord } from './library.js';
import { method, service } from './define.js';

/** The largest file the app imports (a photo, a concept file); the web upload refuses larger before sending it. */
export const MAX_PHOTO_BYTES = 200 * 1024 * 1024;

export const importResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('imported'), name: z.string(), image: imageRecord }),
  z.object({ status: z.literal('duplicate'), name: z.string(), image: imageRecord }),
  z.object({ status: z.literal('failed'), name: z.string(), error: apiError }),
]);
export type ImportResult = z.infer<typeof importResult>;

export const imagesService = service(
  {
    /** Imports photos one by one as a cancellable job; a failure on one file stores nothing for it. */
    import: method(z.object({ sources: z.array(importSource).min(1).max(500) }).strict(), z.object({ jobId: z.string(), results: z.array(importResult) })),
  },
  {},
);
