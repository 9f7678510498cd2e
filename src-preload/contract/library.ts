import { z } from 'zod';
import { conceptId, imageId, importSource, isoDate, sha256Hex } from './common.js';
import { method, service } from './define.js';

/** The library's folder that exports go to unless the person names another (web mode offers them as downloads). */
export const EXPORTS_FOLDER = 'exports';

export const imageRecord = z.object({
  id: imageId,
  /** sha256 of the stored, normalized image (oriented, bounded, sRGB PNG). */
  sha256: sha256Hex,
  /** sha256 of the bytes the user imported; importing the same file twice finds this. */
  sourceSha256: sha256Hex,
  thumbSha256: sha256Hex,
  name: z.string(),
  sourceFormat: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  sourceWidth: z.number().int().positive(),
  sourceHeight: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  createdAt: isoDate,
  /** The class words it has saved masks under (none: not masked yet). */
  maskedAs: z.array(z.string()),
});
export type ImageRecord = z.infer<typeof imageRecord>;

export const conceptStatus = z.enum(['draft', 'training', 'ready', 'failed']);

export const conceptRecord = z.object({
  id: conceptId,
  name: z.string(),
  classWord: z.string(),
  token: z.string(),
  /** subject: a token `*` (and a LoRA) for a thing in the prompt; style: a LoRA alone, no token. */
  kind: z.enum(['subject', 'style']),
  imageId: imageId.nullable(),
  /** The mask version it was learned from, and the SD model it was learned on (null once deleted, or a file path's model). */
  maskId: z.string().nullable(),
  baseModelId: z.string().nullable(),
  status: conceptStatus,
  thumbSha256: sha256Hex.nullable(),
  notes: z.string(),
  tags: z.array(z.string()),
  createdAt: isoDate,
});
export type ConceptRecord = z.infer<typeof conceptRecord>;

const conceptTag = z.string().trim().min(1).max(40);

export const libraryStats = z.object({
  dataDir: z.string(),
  images: z.number().int(),
  concepts: z.number().int(),
  storeBytes: z.number().int(),
});

export const libraryService = service(
  {
    list: method(z.object({}).strict(), z.object({ images: z.array(imageRecord), concepts: z.array(conceptRecord) })),
    stats: method(z.object({}).strict(), libraryStats),
    /** Deletes the image with its masks; concepts made from it keep their weights and lose the link. */
    deleteImage: method(z.object({ id: imageId }).strict(), z.object({ removedFiles: z.number().int() })),
    deleteConcept: method(z.object({ id: conceptId }).strict(), z.object({ removedFiles: z.number().int() })),
    /** Renames a concept, or changes its notes or tags. */
    updateConcept: method(
      z
        .object({
          id: conceptId,
          name: z.string().trim().min(1).max(200).optional(),
          notes: z.string().max(10_000).optional(),
          tags: z.array(conceptTag).max(30).optional(),
        })
        .strict(),
      conceptRecord,
    ),
    /** Writes a concept for another tool into a folder (a1111: embedding + kohya LoRA; diffusers: learned_embeds + PEFT LoRA). */
    exportConcept: method(
      z.object({ id: conceptId, format: z.enum(['a1111', 'diffusers']), dir: z.string().trim().min(1).max(4096) }).strict(),
      z.object({ files: z.array(z.string()), prompt: z.string() }),
    ),
    /** Makes a concept from an embedding (and its LoRA) another tool wrote, or from a concept file. */
    importConcept: method(
      // an embedding (+ its LoRA), a LoRA alone (a style), or a .siconcept bundle; paths in Electron, uploads in web mode
      z
        .object({ sources: z.array(importSource).min(1).max(2), classWord: z.string().trim().max(64).optional(), name: z.string().trim().max(200).optional() })
        .strict(),
      z.object({ conceptId, notes: z.array(z.string()) }),
    ),
  },
  {
    onChanged: z.object({ reason: z.enum(['imported', 'deleted', 'updated']) }),
  },
);
