import { z } from 'zod';
import { imageId, isoDate, sha256Hex } from './common.js';
import { method, service } from './define.js';

const base64Png = z
  .string()
  .max(24 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]+=*$/, 'expected base64 PNG data');
const classWord = z.string().trim().min(1).max(64);

export const maskRecord = z.object({
  id: z.string(),
  imageId,
  classWord: z.string(),
  version: z.number().int().positive(),
  sha256: sha256Hex,
  source: z.enum(['auto', 'sam', 'manual']),
  createdAt: isoDate,
});
export type MaskRecord = z.infer<typeof maskRecord>;

/** A click for SAM in image pixels; `positive`: part of the object, or not part of it. */
export const samPoint = z.object({ x: z.number().finite(), y: z.number().finite(), positive: z.boolean() }).strict();
export type SamPoint = z.infer<typeof samPoint>;
/** A rectangle in image pixels, corner (x0, y0) to corner (x1, y1): SAM's box prompt, a brush stroke's dirty region. */
export const box = z.object({ x0: z.number().finite(), y0: z.number().finite(), x1: z.number().finite(), y1: z.number().finite() }).strict();
export type Box = z.infer<typeof box>;

export const maskResult = z.object({
  maskPng: base64Png,
  width: z.number().int(),
  height: z.number().int(),
  score: z.number(),
  coverage: z.number(),
});
export type MaskResultWire = z.infer<typeof maskResult>;

export const masksService = service(
  {
    /** Computes (or finds cached) the image's SAM embedding; seconds the first time on a CPU. */
    prepare: method(z.object({ imageId }).strict(), z.object({ width: z.number().int(), height: z.number().int() })),
    segment: method(
      z.object({ imageId, points: z.array(samPoint).max(64), box: box.nullable().default(null), refine: z.boolean().default(true) }).strict(),
      maskResult,
    ),
    detectorStatus: method(z.object({}).strict(), z.object({ installed: z.boolean(), name: z.string().nullable(), hint: z.string() })),
    detect: method(z.object({ imageId, classWord }).strict(), z.object({ box, score: z.number(), label: z.string(), mask: maskResult })),
    save: method(z.object({ imageId, classWord, maskPng: base64Png, source: z.enum(['auto', 'sam', 'manual']) }).strict(), maskRecord),
    list: method(z.object({ imageId }).strict(), z.array(maskRecord)),
  },
  {},
);
