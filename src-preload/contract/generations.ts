import { z } from 'zod';
import { isoDate, sha256Hex } from './common.js';
import { method, service } from './define.js';

export const generationRecord = z.object({ id: z.string(), prompt: z.string(), sha256: sha256Hex, createdAt: isoDate });
export type GenerationRecord = z.infer<typeof generationRecord>;

export const generationsService = service(
  {
    list: method(z.object({}).strict(), z.array(generationRecord)),
    remove: method(z.object({ id: z.string().regex(/^gen_[0-9a-z]{6,32}$/) }).strict(), z.object({ removedFiles: z.number().int() })),
  },
  {},
);
