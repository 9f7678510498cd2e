// The Compose screen's state: the prompt with concepts as chips (each its own placeholder), where each
// one goes on the canvas, the sampling settings, the drawing job as it runs, saved compositions and
// the prompt history. Thin components read it; `destroy()` stops its event subscriptions.
import type {
  Composition,
  CompositionInput,
  ConceptRecord,
  GenerationRecord,
  JobInfo,
  ModelRecord,
  NovelView,
  RegionBox,
  SavedComposition,
} from '../../../../src-preload/contract/index.js';
import { composition as compositionSchema, MAX_SEED } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
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
  #models = $state.raw<ModelRecord[]>([]);
  #saved = $state.raw<SavedComposition[]>([]);
  #history = $state.raw<string[]>(readHistory());

  // the drawing job
  #jobId = $state<string | null>(null);
  #step = $state(0);
  #total = $state(0);
  #etaMs = $state(0);
  #preview = $state<string | null>(null);
  #results = $state.raw<GenerationRecord[]>([]);
  #loaded = $state(false);
  #lastSeed = $state<number | null>(null);
  #notes = $state.raw<string[]>([]);
  #stops: Array<() => void> = [];

  readonly sdModels = $derived(this.#models.filter((m) => m.family === 'sd1'));
  readonly chips = $derived(this.#chips);
  readonly regions = $derived(this.#regions);
  readonly running = $derived(this.#jobId !== null);
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
    karras: this.karras && this.sampler !== 'ddim',
    steps: this.steps,
    guidance: this.guidance,
    seed: this.seed,
    count: this.count,
    width: this.width,
    height: this.height,
  });
  /** What stops a drawing, in the words the screen shows (null when it can start). */
  readonly problem = $derived.by(() => {
    if (!this.modelId) return 'Choose a Stable Diffusion 1.x model (install one in Settings › Models).';
    if (!this.prompt.trim()) return 'Write a prompt: what the image shows.';
    if (this.width % 64 || this.height % 64) return `Width and height must be multiples of 64 (now ${this.width}×${this.height}).`;
    // a style (a LoRA without a token) acts on the whole picture and needs no placeholder
    const missing = this.#chips.find((c) => this.conceptOf(c)?.kind !== 'style' && !usesPlaceholder(this.prompt, c.placeholder));
    if (missing)
      return `The prompt does not use ${missing.placeholder} (${this.conceptOf(missing)?.name ?? 'its concept'}); put it where the concept goes, or remove its chip.`;
    const parsed = compositionSchema.safeParse(this.composition);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return `${issue.path.join(' ')}: ${issue.message}`;
    }
    return null;
  });
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

  constructor() {
    this.#stops.push(
      onEvent('generations', 'onProgress', (p) => {
        if (p.jobId !== this.#jobId) return;
        if (p.note) this.#notes = [...this.#notes, p.note];
        if (p.preview) {
          this.#step = p.step;
          this.#total = p.total;
          this.#etaMs = p.etaMs;
          this.#preview = p.preview;
        }
        if (p.generationIds) {
          const ids = p.generationIds;
          this.#jobId = null;
          void api.generations.list({}).then((all) => (this.#results = all.filter((g) => ids.includes(g.id))));
          notifications.push('success', `Drawn: ${ids.length} image${ids.length === 1 ? '' : 's'}, in the Gallery.`);
        }
      }),
      onEvent('jobs', 'onUpdate', (job: JobInfo) => {
        if (job.id !== this.#jobId || (job.state !== 'failed' && job.state !== 'cancelled')) return;
        this.#jobId = null;
        if (job.state === 'failed') notifications.push('error', `The drawing failed: ${job.error?.message ?? 'unknown error'}`);
      }),
      onEvent('library', 'onChanged', () => void this.load()),
    );
    void this.load();
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
      const [{ concepts }, models, saved] = await Promise.all([api.library.list({}), api.models.list({}), api.compositions.list({})]);
      this.#concepts = concepts.filter((c) => c.status === 'ready');
      this.#models = models;
      this.#saved = saved;
      this.modelId ??= models.find((m) => m.family === 'sd1')?.id ?? null;
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

  async generate(): Promise<void> {
    if (this.problem || this.running) return;
    if (this.seedMode === 'random') this.seed = Math.floor(Math.random() * MAX_SEED);
    this.#lastSeed = this.seed;
    this.#remember(this.prompt.trim());
    this.#preview = null;
    this.#results = [];
    this.#notes = [];
    this.#step = 0;
    this.#total = this.steps;
    try {
      const { jobId } = await api.generations.start({ model: this.modelId!, composition: compositionSchema.parse(this.composition) });
      this.#jobId = jobId;
    } catch (err) {
      notifications.push('error', `The drawing could not start: ${errorMessage(err)}`);
    }
  }

  async cancel(): Promise<void> {
    if (!this.#jobId) return;
    try {
      await api.jobs.cancel({ id: this.#jobId });
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
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
    this.steps = c.steps;
    this.guidance = c.guidance;
    this.seed = c.seed;
    this.seedMode = 'fixed';
    this.count = c.count;
    if (c.width) this.width = c.width;
    if (c.height) this.height = c.height;
    if (modelRef && this.#models.some((m) => m.id === modelRef)) this.modelId = modelRef;
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
