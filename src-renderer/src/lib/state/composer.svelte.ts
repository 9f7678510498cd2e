// The Compose screen's state: the prompt with concepts as chips (each its own placeholder), where each
// one goes on the canvas, the sampling settings, the drawing job as it runs, saved compositions and
// the prompt history. Thin components read it; `destroy()` stops its event subscriptions.
import type {
  Composition,
  CompositionInput,
  ConceptRecord,
  DecoderName,
  DraftNeed,
  GenerationRecord,
  ImageRecord,
  JobInfo,
  MaskRecord,
  ModelRecord,
  NovelView,
  RegionBox,
  SavedComposition,
} from '../../../../src-preload/contract/index.js';
import {
  composition as compositionSchema,
  DECODERS,
  describeCompositionIssue,
  startImageSize,
  draftNeedText,
  DRAFT_PRESET,
  isLcmLora,
  KARRAS_SAMPLERS,
  MAX_SEED,
  NOVEL_VIEWS,
  SAMPLERS,
} from '../../../../src-preload/contract/index.js';
import { z } from 'zod';
import { api, errorMessage, fileUrl, onEvent } from '../api.js';
import { imageSize, regionsMaskPng } from '../regions-mask.js';
import { readDraft, writeDraft } from '../drafts.js';
import { notifications } from './notifications.svelte.js';

export interface Chip {
  placeholder: string;
  conceptId: string;
  /** LoRA strength: 1 as learned. */
  scale: number;
  /** false: the concept's token is left out of the prompt; its LoRA alone acts. */
  useToken: boolean;
}

/** Where a concept goes: a box (fractions of the canvas) or a painted area (a PNG, opaque inside). */
export type RegionShape = { box: RegionBox } | { paint: string };

/** img2img's start as the form holds it: the image (shown on the canvas), how much is redrawn, and where. */
export interface StartChoice {
  imageId: string;
  sha256: string;
  name: string;
  width: number;
  height: number;
  /** How much is redrawn (A1111's denoising strength). */
  strength: number;
  /**
   * The whole picture; only inside the concepts' regions ("put * dog here"); or inside the photo's saved mask (the
   * mask studio's SAM clicks, box and brush). The rest is kept to the pixel; `invert` swaps inside and outside.
   */
  redraw: 'all' | 'regions' | 'mask';
  maskId: string | null;
  invert: boolean;
  feather: number;
}

export const SIZE_PRESETS = [
  { id: 'square', label: 'Square', width: 512, height: 512 },
  { id: 'portrait', label: 'Portrait', width: 512, height: 768 },
  { id: 'landscape', label: 'Landscape', width: 768, height: 512 },
] as const;

/** One colour per placeholder, the same on chips and on the canvas. */
export const REGION_COLORS = ['#4f8cff', '#ff7a59', '#3ccf91', '#c77dff', '#ffd166', '#ef476f', '#06d6a0', '#118ab2'];

/** The drag type a concept thumbnail carries (its id) onto the prompt. */
export const CONCEPT_DRAG_TYPE = 'application/x-singleinsert-concept';

const HISTORY_KEY = 'singleinsert.promptHistory';
const HISTORY_SIZE = 30;

const DRAFT_KEY = 'compose';
/** The form as a draft keeps it: loosely typed (a draft may be half-written), every field optional. */
const composeDraft = z
  .object({
    prompt: z.string(),
    negative: z.string(),
    view: z.enum(Object.keys(NOVEL_VIEWS) as [NovelView, ...NovelView[]]).nullable(),
    chips: z.array(z.object({ placeholder: z.string(), conceptId: z.string(), scale: z.number(), useToken: z.boolean() })),
    regions: z.record(z.string(), z.union([z.object({ box: z.tuple([z.number(), z.number(), z.number(), z.number()]) }), z.object({ paint: z.string() })])),
    sampler: z.enum(SAMPLERS),
    karras: z.boolean(),
    decoder: z.enum(DECODERS),
    start: z
      .object({
        imageId: z.string(),
        sha256: z.string(),
        name: z.string(),
        width: z.number(),
        height: z.number(),
        strength: z.number(),
        redraw: z.enum(['all', 'regions', 'mask']),
        maskId: z.string().nullable().default(null),
        invert: z.boolean().default(false),
        feather: z.number(),
      })
      .nullable(),
    steps: z.number(),
    guidance: z.number(),
    seedMode: z.enum(['random', 'fixed']),
    seed: z.number(),
    width: z.number(),
    height: z.number(),
    count: z.number(),
    modelId: z.string().nullable(),
    savedId: z.string().nullable(),
    savedName: z.string(),
    /** The drawings started here and not yet ended: a reload finds them and shows their images. */
    jobIds: z.array(z.string()),
    lastSeed: z.number().nullable(),
  })
  .partial();
type ComposeDraft = z.infer<typeof composeDraft>;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Whether `placeholder` stands as a word of the prompt ("*" in "a * dog", not in "*2"). */
export const usesPlaceholder = (prompt: string, placeholder: string) => new RegExp(`(^|[\\s,(])${escapeRegExp(placeholder)}(?=[\\s,.;:!?)]|$)`).test(prompt);

export class ComposerState {
  // what the person composes
  prompt = $state('');
  negative = $state('');
  view = $state<NovelView | null>(null);
  #chips = $state<Chip[]>([]);
  #regions = $state<Record<string, RegionShape>>({});
  sampler = $state<Composition['sampler']>('ddim');
  karras = $state(false);
  decoder = $state<DecoderName>('vae');
  start = $state<StartChoice | null>(null);
  /** The regions' union as an inpainting mask, made when they change (a canvas draws it). */
  #inpaintMask = $state<string | null>(null);
  steps = $state(50);
  guidance = $state(7.5);
  seedMode = $state<'random' | 'fixed'>('random');
  seed = $state(0);
  width = $state(512);
  height = $state(512);
  count = $state(1);
  modelId = $state<string | null>(null);
  /** The concept whose region the canvas draws, and with which tool. */
  drawing = $state<string | null>(null);
  tool = $state<'box' | 'paint'>('box');
  brush = $state(0.06);
  erasing = $state(false);
  /** The saved composition being edited, if any. */
  savedId = $state<string | null>(null);
  savedName = $state('');

  // what the library has
  #concepts = $state.raw<ConceptRecord[]>([]);
  /** The library's photos, to start a drawing from. */
  #photos = $state.raw<ImageRecord[]>([]);
  #startMasks = $state.raw<MaskRecord[]>([]);
  #models = $state.raw<ModelRecord[]>([]);
  #saved = $state.raw<SavedComposition[]>([]);
  #history = $state.raw<string[]>(readHistory());

  // the drawings: started here, in the order they run (the gpu lane takes one at a time)
  #queue = $state.raw<string[]>([]);
  #cancelling = $state.raw<ReadonlySet<string>>(new Set());
  #step = $state(0);
  #total = $state(0);
  #etaMs = $state(0);
  #preview = $state<string | null>(null);
  #results = $state.raw<GenerationRecord[]>([]);
  #loaded = $state(false);
  #lastSeed = $state<number | null>(null);
  #notes = $state.raw<string[]>([]);
  /** When the draft was last kept, and whether only this page holds it (the storage is full). */
  #draftAt = $state<string | null>(null);
  #draftLocal = $state(false);
  #stops: Array<() => void> = [];

  readonly sdModels = $derived(this.#models.filter((m) => m.family === 'sd1'));
  /** A TAESD is installed: previews use it, and it can decode drafts. */
  readonly hasTaesd = $derived(this.#models.some((m) => m.family === 'taesd'));
  readonly chips = $derived(this.#chips);
  readonly regions = $derived(this.#regions);
  /** A drawing of this screen runs or waits. */
  readonly running = $derived(this.#queue.length > 0);
  /** The drawing the progress is about: the oldest one started here (it runs first). */
  readonly #current = $derived(this.#queue[0] ?? null);
  /** Drawings started here waiting behind the current one. */
  readonly waiting = $derived(Math.max(0, this.#queue.length - 1));
  readonly cancelling = $derived(this.#current !== null && this.#cancelling.has(this.#current));
  /** The first concept's class word: views are phrased for it. */
  readonly firstClassWord = $derived(this.#chips[0] ? this.conceptOf(this.#chips[0])?.classWord : undefined);
  /** The composition as the schema reads it (the seed as it will be drawn). */
  readonly composition = $derived<CompositionInput>({
    prompt: this.prompt,
    negative: this.negative,
    view: this.view,
    concepts: this.#chips.map((c) => ({ placeholder: c.placeholder, conceptId: c.conceptId, scale: c.scale, useToken: c.useToken })),
    regions: Object.entries(this.#regions).map(([placeholder, shape]) => ({ placeholder, ...shape })),
    sampler: this.sampler,
    karras: this.karras && KARRAS_SAMPLERS.includes(this.sampler),
    decoder: this.decoder,
    start: this.start
      ? {
          imageId: this.start.imageId,
          strength: this.start.strength,
          inpaint: this.start.redraw === 'regions' ? this.#inpaintMask : null,
          mask: this.start.redraw === 'mask' ? this.start.maskId : null,
          invert: this.start.redraw !== 'all' && this.start.invert,
          feather: this.start.feather,
        }
      : null,
    steps: this.steps,
    guidance: this.guidance,
    seed: this.seed,
    count: this.count,
    width: this.width,
    height: this.height,
  });
  /** What stops a drawing, in the words the screen shows, and the field it is about (null when it can start). */
  readonly #problem = $derived.by((): { field: keyof Composition | 'model' | null; message: string } | null => {
    if (!this.modelId) return { field: 'model', message: 'Choose a Stable Diffusion 1.x model (install one in Settings › Models).' };
    if (!this.prompt.trim()) return { field: 'prompt', message: 'Write a prompt: what the image shows.' };
    if (this.width % 64) return { field: 'width', message: `Width and height must be multiples of 64 (now ${this.width}×${this.height}).` };
    if (this.height % 64) return { field: 'height', message: `Width and height must be multiples of 64 (now ${this.width}×${this.height}).` };
    if (this.start?.redraw === 'regions' && Object.keys(this.#regions).length === 0)
      return { field: 'start', message: 'Draw a region where the picture should change (put a concept there), or redraw the whole picture.' };
    if (this.start?.redraw === 'regions' && !this.#inpaintMask) return { field: 'start', message: 'Preparing the mask of the regions…' };
    if (this.decoder === 'taesd' && !this.hasTaesd)
      return {
        field: 'decoder',
        message: `TAESD is not installed (${draftNeedText('taesd', 'app')}); or choose the VAE.`,
      };
    // a style (a LoRA without a token) acts on the whole picture and needs no placeholder
    const missing = this.#chips.find((c) => this.conceptOf(c)?.kind !== 'style' && !usesPlaceholder(this.prompt, c.placeholder));
    if (missing)
      return {
        field: 'prompt',
        message: `The prompt does not use ${missing.placeholder} (${this.conceptOf(missing)?.name ?? 'its concept'}); put it where the concept goes, or remove its chip.`,
      };
    const parsed = compositionSchema.safeParse(this.composition);
    if (!parsed.success) return describeCompositionIssue(parsed.error.issues[0]!);
    return null;
  });
  readonly problem = $derived(this.#problem?.message ?? null);
  /** The field the form marks as wrong. */
  readonly invalidField = $derived(this.#problem?.field ?? null);
  /** Concepts learned on another model than the chosen one: a warning, not a stop. */
  readonly warnings = $derived.by(() => {
    const model = this.#models.find((m) => m.id === this.modelId);
    return this.#chips
      .map((c) => ({ c, concept: this.conceptOf(c) }))
      .filter(({ concept }) => concept?.baseModelId && model && concept.baseModelId !== model.id)
      .map(
        ({ c, concept }) =>
          `${c.placeholder} "${concept!.name}" was learned on ${this.#models.find((m) => m.id === concept!.baseModelId)?.name ?? 'another model'}, not on ${model!.name}; its LoRA may not fit.`,
      );
  });

  /** Everything the person set, as the draft keeps it. */
  readonly #draft = $derived<ComposeDraft>({
    prompt: this.prompt,
    negative: this.negative,
    view: this.view,
    chips: this.#chips,
    regions: this.#regions,
    sampler: this.sampler,
    karras: this.karras,
    decoder: this.decoder,
    start: this.start,
    steps: this.steps,
    guidance: this.guidance,
    seedMode: this.seedMode,
    seed: this.seed,
    width: this.width,
    height: this.height,
    count: this.count,
    modelId: this.modelId,
    savedId: this.savedId,
    savedName: this.savedName,
    jobIds: this.#queue,
    lastSeed: this.#lastSeed,
  });
  /** The form differs from what the library keeps (the saved composition opened, or nothing saved at all). */
  readonly unsaved = $derived.by(() => {
    const saved = this.#saved.find((x) => x.id === this.savedId);
    if (!saved) return this.prompt.trim() !== '' || this.#chips.length > 0;
    const parsed = compositionSchema.safeParse(this.composition);
    if (!parsed.success || saved.modelRef !== this.modelId) return true;
    // a random seed is drawn anew each time: it is no change
    const seed = this.seedMode === 'random' ? saved.composition.seed : parsed.data.seed;
    return JSON.stringify({ ...parsed.data, seed }) !== JSON.stringify(saved.composition);
  });

  constructor() {
    const draft = readDraft(DRAFT_KEY, composeDraft);
    if (draft) this.#restore(draft.value, draft.savedAt);
    this.#stops.push(
      onEvent('generations', 'onProgress', (p) => {
        if (!this.#queue.includes(p.jobId)) return;
        if (p.note && p.jobId === this.#current) this.#notes = [...this.#notes, p.note];
        if (p.preview && p.jobId === this.#current) {
          this.#step = p.step;
          this.#total = p.total;
          this.#etaMs = p.etaMs;
          this.#preview = p.preview;
        }
        if (p.generationIds) this.#ended(p.jobId, p.generationIds);
      }),
      // how it ended is said by the jobs' own messages; here the form lets go of it
      onEvent('jobs', 'onUpdate', (job: JobInfo) => {
        if (this.#queue.includes(job.id) && (job.state === 'failed' || job.state === 'cancelled')) this.#ended(job.id, []);
      }),
      onEvent('library', 'onChanged', () => void this.load()),
      // "redraw inside the regions": their union, drawn anew whenever they or the size change
      $effect.root(() => {
        $effect(() => {
          const shapes = this.start?.redraw === 'regions' ? Object.values(this.#regions) : [];
          const [width, height] = [this.width, this.height];
          this.#inpaintMask = null;
          let current = true;
          void regionsMaskPng(shapes, width, height).then((png) => current && (this.#inpaintMask = png));
          return () => (current = false);
        });
      }),
      // every change is kept as the draft (a screen change or a reload finds it)
      $effect.root(() => {
        $effect(() => {
          const kept = writeDraft(DRAFT_KEY, this.#draft);
          this.#draftAt = new Date().toISOString();
          this.#draftLocal = !kept.persisted;
        });
      }),
    );
    void this.load().then(() => this.#reattach());
  }

  /** When the draft was last kept (null before any change), and whether a reload would lose it. */
  get draft(): { keptAt: string | null; onlyThisPage: boolean } {
    return { keptAt: this.#draftAt, onlyThisPage: this.#draftLocal };
  }

  #restore(d: ComposeDraft, savedAt: string): void {
    if (d.prompt !== undefined) this.prompt = d.prompt;
    if (d.negative !== undefined) this.negative = d.negative;
    if (d.view !== undefined) this.view = d.view;
    if (d.chips) this.#chips = d.chips;
    if (d.regions) this.#regions = d.regions as Record<string, RegionShape>;
    if (d.sampler) this.sampler = d.sampler;
    if (d.karras !== undefined) this.karras = d.karras;
    if (d.decoder) this.decoder = d.decoder;
    if (d.start !== undefined) this.start = d.start;
    if (d.steps !== undefined) this.steps = d.steps;
    if (d.guidance !== undefined) this.guidance = d.guidance;
    if (d.seedMode) this.seedMode = d.seedMode;
    if (d.seed !== undefined) this.seed = d.seed;
    if (d.width !== undefined) this.width = d.width;
    if (d.height !== undefined) this.height = d.height;
    if (d.count !== undefined) this.count = d.count;
    if (d.modelId !== undefined) this.modelId = d.modelId;
    if (d.savedId !== undefined) this.savedId = d.savedId;
    if (d.savedName !== undefined) this.savedName = d.savedName;
    if (d.jobIds) this.#queue = d.jobIds;
    if (d.lastSeed !== undefined) this.#lastSeed = d.lastSeed;
    this.#draftAt = savedAt;
  }

  /** After a reload: the drawings the draft names run on (their progress comes back), or show the images they made. */
  async #reattach(): Promise<void> {
    if (this.#queue.length === 0) return;
    try {
      const jobs = await api.jobs.list({});
      const byId = new Map(jobs.map((j) => [j.id, j]));
      const finished = this.#queue.map((id) => byId.get(id)).filter((j): j is JobInfo => j?.state === 'succeeded');
      this.#queue = this.#queue.filter((id) => ['running', 'queued'].includes(byId.get(id)?.state ?? ''));
      const running = this.#current ? byId.get(this.#current) : undefined;
      if (running) {
        this.#step = running.done;
        this.#total = running.total || this.steps;
      }
      const last = finished.at(-1);
      if (last) await this.#showResults(last.outputs);
    } catch (err) {
      notifications.push('error', `The drawings started before the reload could not be found: ${errorMessage(err)}`);
    }
  }

  #ended(jobId: string, generationIds: string[]): void {
    const wasCurrent = jobId === this.#current;
    this.#queue = this.#queue.filter((id) => id !== jobId);
    this.#cancelling = new Set([...this.#cancelling].filter((id) => id !== jobId));
    if (generationIds.length) void this.#showResults(generationIds);
    if (wasCurrent) {
      // the next drawing's progress starts from nothing
      this.#step = 0;
      this.#preview = null;
      this.#notes = [];
    }
  }

  async #showResults(ids: string[]): Promise<void> {
    const all = await api.generations.list({});
    this.#results = all.filter((g) => ids.includes(g.id));
  }

  get concepts(): ConceptRecord[] {
    return this.#concepts;
  }
  get models(): ModelRecord[] {
    return this.#models;
  }
  get saved(): SavedComposition[] {
    return this.#saved;
  }
  get history(): string[] {
    return this.#history;
  }
  get progress(): { step: number; total: number; etaMs: number; preview: string | null } {
    return { step: this.#step, total: this.#total, etaMs: this.#etaMs, preview: this.#preview };
  }
  /** The last drawing's images. */
  get results(): GenerationRecord[] {
    return this.#results;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get notes(): string[] {
    return this.#notes;
  }
  get lastSeed(): number | null {
    return this.#lastSeed;
  }

  async load(): Promise<void> {
    try {
      const [{ concepts, images }, models, saved] = await Promise.all([api.library.list({}), api.models.list({}), api.compositions.list({})]);
      this.#concepts = concepts.filter((c) => c.status === 'ready');
      this.#photos = images;
      this.#models = models;
      this.#saved = saved;
      if (this.modelId && !models.some((m) => m.id === this.modelId)) this.modelId = null;
      this.modelId ??= models.find((m) => m.family === 'sd1')?.id ?? null;
      // a draft's concept that was deleted meanwhile leaves the form, its placeholder with it
      for (const chip of this.#chips) if (!concepts.some((c) => c.id === chip.conceptId)) this.removeConcept(chip.placeholder);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#loaded = true;
    }
  }

  conceptOf(chip: Chip): ConceptRecord | undefined {
    return this.#concepts.find((c) => c.id === chip.conceptId);
  }

  /** The name of the concept at a placeholder ('' if none). */
  nameOf(placeholder: string): string {
    const chip = this.#chips.find((c) => c.placeholder === placeholder);
    return (chip && this.conceptOf(chip)?.name) ?? '';
  }

  colorOf(placeholder: string): string {
    const i = placeholder === '*' ? 0 : Number(placeholder.slice(1)) - 1;
    return REGION_COLORS[i % REGION_COLORS.length]!;
  }

  /**
   * Adds a concept as a chip with the next free placeholder and (unless it is a style) writes "<placeholder> <class word>" into
   * the prompt — over `replace` (the "@query" typed to pick it) or at the end. Returns where the caret goes.
   */
  addConcept(concept: ConceptRecord, replace?: { start: number; end: number }): number {
    const placeholder = this.nextPlaceholder();
    const style = concept.kind === 'style';
    this.#chips = [...this.#chips, { placeholder, conceptId: concept.id, scale: 1, useToken: !style }];
    // a style has no token to place: the prompt is left as it is (minus the "@query" that picked it)
    if (style) {
      if (replace) this.prompt = `${this.prompt.slice(0, replace.start)}${this.prompt.slice(replace.end)}`;
      return replace?.start ?? this.prompt.length;
    }
    const words = `${placeholder} ${concept.classWord}`;
    const [start, end] = replace ? [replace.start, replace.end] : [this.prompt.length, this.prompt.length];
    const before = this.prompt.slice(0, start);
    const after = this.prompt.slice(end);
    const lead = before && !/\s$/.test(before) ? ' ' : '';
    const trail = after && !/^\s/.test(after) ? ' ' : '';
    this.prompt = `${before}${lead}${words}${trail}${after}`;
    return (before + lead + words).length;
  }

  /** "Use in Compose" from a concept: it joins the prompt (unless the form has it already). */
  useConcept(id: string): void {
    const concept = this.#concepts.find((c) => c.id === id);
    if (!concept) return notifications.push('error', 'That concept is not ready (or was deleted); pick one from the strip.');
    if (!this.#chips.some((c) => c.conceptId === id)) this.addConcept(concept);
  }

  /** Takes the chip out, its placeholder out of the prompt (the class word stays) and its region off the canvas. */
  removeConcept(placeholder: string): void {
    this.#chips = this.#chips.filter((c) => c.placeholder !== placeholder);
    this.prompt = this.prompt
      .replace(new RegExp(`(^|\\s)${escapeRegExp(placeholder)}(?=\\s|$)`, 'g'), '$1')
      .replace(/ {2,}/g, ' ')
      .trim();
    this.clearRegion(placeholder);
  }

  setScale(placeholder: string, scale: number): void {
    this.#chips = this.#chips.map((c) => (c.placeholder === placeholder ? { ...c, scale } : c));
  }

  setUseToken(placeholder: string, useToken: boolean): void {
    this.#chips = this.#chips.map((c) => (c.placeholder === placeholder ? { ...c, useToken } : c));
  }

  /** The concept's region as fractions of the canvas (0…1), clamped to it. */
  setRegion(placeholder: string, box: RegionBox): void {
    const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 1000) / 1000));
    const [x0, y0, x1, y1] = [
      clamp(Math.min(box[0], box[2])),
      clamp(Math.min(box[1], box[3])),
      clamp(Math.max(box[0], box[2])),
      clamp(Math.max(box[1], box[3])),
    ];
    if (x1 - x0 < 0.02 || y1 - y0 < 0.02) return; // a click, not a box
    this.#regions = { ...this.#regions, [placeholder]: { box: [x0, y0, x1, y1] } };
  }

  /** A painted region (PNG data URL of what was painted); an empty painting clears it. */
  setPaint(placeholder: string, png: string | null): void {
    if (png) this.#regions = { ...this.#regions, [placeholder]: { paint: png } };
    else this.clearRegion(placeholder);
  }

  /** Starts (or stops) placing a concept, with the tool its region was made with. */
  place(placeholder: string): void {
    if (this.drawing === placeholder) {
      this.drawing = null;
      return;
    }
    const shape = this.#regions[placeholder];
    this.tool = shape && 'paint' in shape ? 'paint' : 'box';
    this.erasing = false;
    this.drawing = placeholder;
  }

  clearRegion(placeholder: string): void {
    const { [placeholder]: _gone, ...rest } = this.#regions;
    this.#regions = rest;
    if (this.drawing === placeholder) this.drawing = null;
  }

  /** Overlapping regions, said as the drawing will treat them. */
  readonly overlaps = $derived.by(() => {
    // boxes here; painted areas are checked when drawn (the drawing's notes say it)
    const entries = Object.entries(this.#regions).flatMap(([p, shape]) => ('box' in shape ? [[p, shape.box] as const] : []));
    const out: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const [a, ba] = entries[i]!;
        const [b, bb] = entries[j]!;
        if (Math.min(ba[2], bb[2]) > Math.max(ba[0], bb[0]) && Math.min(ba[3], bb[3]) > Math.max(ba[1], bb[1]))
          out.push(`${a} and ${b} overlap: there both act (both tokens are attended, both LoRAs add).`);
      }
    }
    return out;
  });

  setSize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }

  reuseSeed(): void {
    if (this.#lastSeed === null) return;
    this.seed = this.#lastSeed;
    this.seedMode = 'fixed';
  }

  /** Starts a drawing, or queues it behind the ones already started (each keeps the settings it was given). */
  async generate(): Promise<void> {
    if (this.problem) return;
    if (this.seedMode === 'random') this.seed = Math.floor(Math.random() * MAX_SEED);
    this.#lastSeed = this.seed;
    this.#remember(this.prompt.trim());
    if (!this.running) {
      this.#preview = null;
      this.#results = [];
      this.#notes = [];
      this.#step = 0;
      this.#total = this.steps;
    }
    try {
      const { jobId } = await api.generations.start({ model: this.modelId!, composition: compositionSchema.parse(this.composition) });
      this.#queue = [...this.#queue, jobId];
    } catch (err) {
      notifications.push('error', `The drawing could not start: ${errorMessage(err)}`);
    }
  }

  /** Cancels the current drawing (the ones waiting behind it go on); the form says "Cancelling…" at once. */
  async cancel(): Promise<void> {
    const id = this.#current;
    if (!id || this.#cancelling.has(id)) return;
    this.#cancelling = new Set([...this.#cancelling, id]);
    try {
      await api.jobs.cancel({ id });
    } catch (err) {
      this.#cancelling = new Set([...this.#cancelling].filter((x) => x !== id));
      notifications.push('error', errorMessage(err));
    }
  }

  /** Takes the drawings still waiting out of the queue (they have not started: nothing is lost). */
  async cancelWaiting(): Promise<void> {
    for (const id of this.#queue.slice(1)) {
      try {
        await api.jobs.cancel({ id });
      } catch {
        // it started or ended meanwhile: its own end is said
      }
    }
  }

  /** Empties the form (the saved compositions stay); the draft goes with it. */
  clearForm(): void {
    this.prompt = '';
    this.negative = '';
    this.view = null;
    this.#chips = [];
    this.#regions = {};
    this.savedId = null;
    this.savedName = '';
    this.drawing = null;
  }

  /**
   * "Draft (LCM)": the LCM-LoRA's chip (once), LCM with its steps and guidance, TAESD's decode where installed.
   * Without an LCM-LoRA nothing changes (LCM draws blur without it); what is missing is said, with where to add it.
   */
  applyDraftPreset(): { applied: boolean; missing: DraftNeed[] } {
    const lcm = this.#concepts.find(isLcmLora);
    const missing: DraftNeed[] = [...(lcm ? [] : ['lcmLora' as const]), ...(this.hasTaesd ? [] : ['taesd' as const])];
    if (!lcm) return { applied: false, missing };
    if (!this.#chips.some((c) => c.conceptId === lcm.id)) this.addConcept(lcm);
    this.sampler = DRAFT_PRESET.sampler;
    this.karras = false;
    this.steps = DRAFT_PRESET.steps;
    this.guidance = DRAFT_PRESET.guidance;
    this.decoder = this.hasTaesd ? DRAFT_PRESET.decoder : 'vae';
    return { applied: true, missing };
  }

  /** Every setting, concept and region of a composition (a saved one, or a generated image's). */
  apply(c: Composition, modelRef: string | null): void {
    this.prompt = c.prompt;
    this.negative = c.negative;
    this.view = c.view;
    this.#chips = c.concepts.map((x) => ({ placeholder: x.placeholder, conceptId: x.conceptId, scale: x.scale, useToken: x.useToken }));
    this.#regions = Object.fromEntries(c.regions.map((r) => [r.placeholder, 'box' in r ? { box: r.box } : { paint: r.paint }]));
    this.sampler = c.sampler;
    this.karras = c.karras;
    this.decoder = c.decoder;
    // a start image comes back by id; the form looks it up again (its size, its picture)
    this.start = null;
    if (c.start) {
      const { strength, feather, inpaint, mask, invert } = c.start;
      void this.setStart(c.start.imageId).then(() => {
        if (this.start)
          this.start = { ...this.start, strength, feather, invert, maskId: mask ?? this.start.maskId, redraw: inpaint ? 'regions' : mask ? 'mask' : 'all' };
        // the composition's own size, not the start image's default
        if (c.width) this.width = c.width;
        if (c.height) this.height = c.height;
      });
    }
    this.steps = c.steps;
    this.guidance = c.guidance;
    this.seed = c.seed;
    this.seedMode = 'fixed';
    this.count = c.count;
    if (c.width) this.width = c.width;
    if (c.height) this.height = c.height;
    if (modelRef && this.#models.some((m) => m.id === modelRef)) this.modelId = modelRef;
  }

  /**
   * "Draw over this": a library photo (img_…) or a Gallery image (gen_…) becomes the start; the size follows its
   * shape (long side 512, multiples of 64), as the service would choose it.
   */
  async setStart(id: string): Promise<void> {
    try {
      const found = id.startsWith('img_')
        ? (await api.library.list({})).images.find((i) => i.id === id)
        : (await api.generations.list({})).find((g: GenerationRecord) => g.id === id);
      if (!found) throw new Error(`${id} is not in the library any more.`);
      const name = 'name' in found ? found.name : found.prompt.slice(0, 60);
      const size = await imageSize(fileUrl(found.sha256));
      const { width, height } = startImageSize(size, 512, 64);
      // a photo's saved masks (the newest first) can say where to redraw
      this.#startMasks = id.startsWith('img_') ? await api.masks.list({ imageId: id }) : [];
      const redraw = this.start?.redraw === 'mask' && !this.#startMasks.length ? 'all' : (this.start?.redraw ?? 'all');
      this.start = {
        imageId: id,
        sha256: found.sha256,
        name,
        ...size,
        strength: this.start?.strength ?? 0.6,
        redraw,
        maskId: this.#startMasks[0]?.id ?? null,
        invert: this.start?.invert ?? false,
        feather: 8,
      };
      [this.width, this.height] = [width, height];
      // the canvas shows the picture to draw over (the last results stay in the Gallery)
      if (!this.running) this.#results = [];
    } catch (err) {
      notifications.push('error', `That image cannot be the start: ${errorMessage(err)}`);
    }
  }

  get photos(): ImageRecord[] {
    return this.#photos;
  }
  /** The start photo's saved masks (none for a Gallery image). */
  get startMasks(): MaskRecord[] {
    return this.#startMasks;
  }

  clearStart(): void {
    this.start = null;
  }

  /** "Send to Compose" from the Gallery: the image's own composition, to draw again or change. */
  async openGeneration(id: string): Promise<void> {
    const record = (await api.generations.list({})).find((g: GenerationRecord) => g.id === id);
    if (!record?.composition) {
      notifications.push('error', 'This image has no composition to reopen (it was made before compositions were kept).');
      return;
    }
    this.apply(record.composition, record.modelRef);
    this.savedId = null;
    this.savedName = '';
  }

  async save(): Promise<void> {
    const name = this.savedName.trim() || this.prompt.trim().slice(0, 60) || 'Untitled';
    const parsed = compositionSchema.safeParse(this.composition);
    if (!parsed.success) {
      notifications.push('error', `Cannot save yet: ${parsed.error.issues[0]!.message}`);
      return;
    }
    try {
      const saved = await api.compositions.save({ ...(this.savedId ? { id: this.savedId } : {}), name, composition: parsed.data, modelRef: this.modelId });
      this.savedId = saved.id;
      this.savedName = saved.name;
      this.#saved = await api.compositions.list({});
      notifications.push('success', `Saved the composition "${saved.name}".`);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  open(saved: SavedComposition): void {
    this.apply(saved.composition, saved.modelRef);
    this.savedId = saved.id;
    this.savedName = saved.name;
  }

  async removeSaved(saved: SavedComposition): Promise<void> {
    await api.compositions.remove({ id: saved.id });
    if (this.savedId === saved.id) this.savedId = null;
    this.#saved = await api.compositions.list({});
  }

  private nextPlaceholder(): string {
    const taken = new Set(this.#chips.map((c) => c.placeholder));
    for (let i = 1; ; i++) {
      const p = i === 1 ? '*' : `*${i}`;
      if (!taken.has(p)) return p;
    }
  }

  #remember(prompt: string): void {
    this.#history = [prompt, ...this.#history.filter((p) => p !== prompt)].slice(0, HISTORY_SIZE);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(this.#history));
    } catch {
      // private mode or a full storage: the history lives for this session only
    }
  }

  destroy(): void {
    for (const stop of this.#stops) stop();
  }
}

function readHistory(): string[] {
  try {
    const raw = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((p): p is string => typeof p === 'string').slice(0, HISTORY_SIZE) : [];
  } catch {
    return [];
  }
}
