import { z } from 'zod';
import { apiError } from './common.js';
import { imageRecord } from './library.js';
import { method, service } from './define.js';

/** Where an imported photo comes from: a path (Electron, CLI) or bytes uploaded first (web mode). */
export const importSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }).strict(),
  z.object({ kind: z.literal('upload'), uploadId: z.string().regex(/^upl_[0-9a-z]{8,40}$/), name: z.string().max(512) }).strict(),
]);
export type ImportSource = z.infer<typeof importSource>;

export const importResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('imported'), name: z.string(), image: imageRecord }),
  z.object({ status: z.literal('duplicate'), name: z.string(), image: imageRecord }),
  z.object({ status: z.literal('failed'), name: z.string(), error: apiError }),
]);
export type ImportResult = z.infer<typeof importResult>;

export const imagesService = service(
  {
    /** Imports photos one by one as a cancellable job; a failure on one file stores nothing for it. */
    import: method(
      z.object({ sources: z.array(importSource).min(1).max(500) }).strict(),
      z.object({ jobId: z.string(), results: z.array(importResult) }),
    ),
  },
  {},
);
