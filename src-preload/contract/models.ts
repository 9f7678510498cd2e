import { z } from 'zod';
import { isoDate } from './common.js';
import { method, service } from './define.js';

export const modelRecord = z.object({
  id: z.string(),
  family: z.string(),
  format: z.string(),
  name: z.string(),
  path: z.string(),
  managed: z.boolean(),
  sha256: z.string().nullable(),
  sizeBytes: z.number(),
  sourceUrl: z.string().nullable(),
  installedAt: isoDate,
});
export type ModelRecord = z.infer<typeof modelRecord>;

/** The kinds of model the app uses: SD 1.x to draw, GroundingDINO to find subjects, CLIP, DINO and LPIPS to measure concepts. */
export const MODEL_FAMILIES = ['sd1', 'grounding-dino', 'clip', 'dino', 'lpips', 'taesd'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];
const family = z.enum(MODEL_FAMILIES);

export const modelsService = service(
  {
    list: method(z.object({}).strict(), z.array(modelRecord)),
    /** Registers a model on this machine (files referenced in place unless `copy`). */
    addPath: method(
      z
        .object({ path: z.string().min(1).max(4096), name: z.string().max(200).optional(), family: family.optional(), copy: z.boolean().default(false) })
        .strict(),
      modelRecord,
    ),
    /** Downloads a .safetensors model (resumable, sha256-checked) into the library. */
    addUrl: method(
      z
        .object({
          url: z.string().url().max(4096),
          sha256: z
            .string()
            .regex(/^[0-9a-fA-F]{64}$/)
            .optional(),
          name: z.string().max(200).optional(),
          family: family.optional(),
        })
        .strict(),
      modelRecord,
    ),
    remove: method(z.object({ id: z.string().regex(/^mod_[0-9a-z]{6,32}$/) }).strict(), z.object({ deletedFiles: z.boolean() })),
    /** Registers an A1111 or ComfyUI install's checkpoints, LoRAs and embeddings in place (a rescan adds and forgets). */
    scan: method(
      z.object({ folder: z.string().min(1).max(4096) }).strict(),
      z.object({
        added: z.array(modelRecord),
        kept: z.number().int(),
        removed: z.array(z.string()),
        refused: z.array(z.object({ path: z.string(), reason: z.string() })),
      }),
    ),
  },
  { onChanged: z.object({}) },
);
