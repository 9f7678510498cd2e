// Generated images (the Gallery) and drawing a composition as a job.
import { z } from 'zod';
import { composition } from './compose.js';
import { conceptId, generationId, isoDate, jobId, providerChoice, sha256Hex } from './common.js';

export { generationId };
import { method, service } from './define.js';

export const generationRecord = z.object({
  id: generationId,
  prompt: z.string(),
  negative: z.string(),
  sha256: sha256Hex,
  createdAt: isoDate,
  favorite: z.boolean(),
  /** The model as it was named (an installed model's id or name, or a path), and its label then. */
  modelRef: z.string().nullable(),
  modelLabel: z.string().nullable(),
  /** The composition that draws this image again (its seed, one image); null for images from before compositions. */
  composition: composition.nullable(),
  concepts: z.array(z.object({ conceptId, placeholder: z.string(), scale: z.number() })),
  /** The boards it is on, by name, in name order. */
  boards: z.array(z.string()),
});
export type GenerationRecord = z.infer<typeof generationRecord>;

/** A board's name: a few words the person chose. */
export const boardName = z.string().trim().min(1, 'a board needs a name').max(40, 'a board name is at most 40 characters');

export const GALLERY_SORTS = ['newest', 'oldest', 'favourites'] as const;
export type GallerySort = (typeof GALLERY_SORTS)[number];

/** What the Gallery (and `singleinsert gallery list`) shows: the one filter and order both use. */
export interface GalleryQuery {
  /** Words the prompt, the negative prompt, a concept's name or the seed must contain (all of them, any case). */
  search: string;
  board: string | null;
  favoritesOnly: boolean;
  sort: GallerySort;
}

export function queryGallery(items: readonly GenerationRecord[], q: GalleryQuery, conceptNames: Readonly<Record<string, string>> = {}): GenerationRecord[] {
  const words = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  const text = (g: GenerationRecord) =>
    [g.prompt, g.negative, ...g.concepts.map((c) => conceptNames[c.conceptId] ?? ''), g.composition ? `seed ${g.composition.seed}` : '', ...g.boards]
      .join('\n')
      .toLowerCase();
  const shown = items.filter(
    (g) => (!q.favoritesOnly || g.favorite) && (q.board === null || g.boards.includes(q.board)) && words.every((w) => text(g).includes(w)),
  );
  const newest = (a: GenerationRecord, b: GenerationRecord) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
  const order = {
    newest,
    oldest: (a: GenerationRecord, b: GenerationRecord) => -newest(a, b),
    favourites: (a: GenerationRecord, b: GenerationRecord) => Number(b.favorite) - Number(a.favorite) || newest(a, b),
  }[q.sort];
  return [...shown].sort(order);
}

export const generationsService = service(
  {
    list: method(z.object({}).strict(), z.array(generationRecord)),
    /** Queues the drawing as a job (one at a time) and returns at once; steps and previews come as onProgress. */
    start: method(z.object({ model: z.string().trim().min(1).max(4096), composition, provider: providerChoice.default('auto') }).strict(), z.object({ jobId })),
    setFavorite: method(z.object({ id: generationId, favorite: z.boolean() }).strict(), generationRecord),
    /** Puts the image on exactly these boards (a new name makes a new board; an empty list takes it off all). */
    setBoards: method(z.object({ id: generationId, boards: z.array(boardName).max(20) }).strict(), generationRecord),
    remove: method(z.object({ id: generationId }).strict(), z.object({ removedFiles: z.number().int() })),
  },
  {
    /** A drawing's step (with a cheap preview of its first image), a note, or its end (the new images' ids). */
    onProgress: z.object({
      jobId,
      step: z.number().int(),
      total: z.number().int(),
      etaMs: z.number(),
      /** A PNG data URL of the latents (no VAE), or null. */
      preview: z.string().nullable(),
      note: z.string().nullable(),
      /** Set when it ended with images. */
      generationIds: z.array(generationId).nullable(),
    }),
  },
);

export const savedComposition = z.object({
  id: z.string().regex(/^cmp_[0-9a-z]{6,32}$/),
  name: z.string(),
  composition,
  modelRef: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type SavedComposition = z.infer<typeof savedComposition>;

export const compositionsService = service(
  {
    list: method(z.object({}).strict(), z.array(savedComposition)),
    /** Saves a new composition, or replaces the one with `id`. */
    save: method(
      z
        .object({
          id: savedComposition.shape.id.optional(),
          name: z.string().trim().min(1).max(200),
          composition,
          modelRef: z.string().max(4096).nullable().default(null),
        })
        .strict(),
      savedComposition,
    ),
    remove: method(z.object({ id: savedComposition.shape.id }).strict(), z.object({ removed: z.boolean() })),
  },
  {},
);
