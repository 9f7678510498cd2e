// The Training screen's state: the runs (kept current from training.onProgress), the selected run's
// steps for the chart and its previews, and the form that starts a new run.
import type {
  QueueMove,
  ImageRecord,
  LearnPreset,
  LearnSettingsInput,
  MaskRecord,
  ModelRecord,
  RunPreview,
  RunStep,
  TrainingRun,
} from '../../../../src-preload/contract/index.js';
import {
  DEFAULT_PREVIEW_PROMPTS,
  describeSettingIssue,
  LEARN_PRESETS,
  learnSettings,
  MAX_PREVIEW_PROMPTS,
  PROVIDER_LABELS,
  type ProviderInfo,
} from '../../../../src-preload/contract/index.js';
import { z } from 'zod';
import { api, errorMessage, onEvent } from '../api.js';
import { readDraft, writeDraft } from '../drafts.js';
import { notifications } from './notifications.svelte.js';

export type PresetChoice = LearnPreset | 'custom';

const ACTIVE: ReadonlyArray<TrainingRun['state']> = ['queued', 'running'];

/** The runs and the selected run's live steps. */
export class TrainingRunsState {
  #runs = $state.raw<TrainingRun[]>([]);
  #selectedId = $state<string | null>(null);
  #steps = $state.raw<RunStep[]>([]);
  #previews = $state.raw<RunPreview[]>([]);
  #loaded = $state(false);
  /** Runs whose Cancel was asked for, until they stop: the screen says so at once. */
  #cancelling = $state.raw<ReadonlySet<string>>(new Set());
  #stop: () => void;

  readonly selected = $derived(this.#runs.find((r) => r.id === this.#selectedId) ?? null);
  /** The running run, then the waiting ones in the order the queue takes them. */
  readonly queue = $derived(
    this.#runs
      .filter((r) => ACTIVE.includes(r.state))
      .sort((a, b) => (a.state === 'running' || b.state === 'running' ? (a.state === 'running' ? -1 : 1) : a.queueOrder - b.queueOrder)),
  );
  /** A waiting run's place in the queue: 1 is the next to run. */
  queuePosition(id: string): number | null {
    const waiting = this.queue.filter((r) => r.state === 'queued');
    const i = waiting.findIndex((r) => r.id === id);
    return i < 0 ? null : i + 1;
  }
  readonly running = $derived(this.#runs.find((r) => r.state === 'running') ?? null);

  constructor() {
    this.#stop = onEvent('training', 'onProgress', ({ run, step, previews }) => {
      this.#runs = [run, ...this.#runs.filter((r) => r.id !== run.id)].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      if (!ACTIVE.includes(run.state) && this.#cancelling.has(run.id)) this.#cancelling = new Set([...this.#cancelling].filter((id) => id !== run.id));
      if (this.#selectedId === null && run.state === 'running') this.#selectedId = run.id;
      if (run.id !== this.#selectedId) return;
      if (step) this.#steps = [...this.#steps.filter((s) => s.step < step.step), step];
      // a step redone after a resume draws its previews again: the new ones replace the old
      const same = (a: RunPreview, b: RunPreview) => a.step === b.step && a.promptIndex === b.promptIndex;
      if (previews.length)
        this.#previews = [...this.#previews.filter((p) => !previews.some((n) => same(p, n))), ...previews].sort(
          (a, b) => a.step - b.step || a.promptIndex - b.promptIndex,
        );
    });
    void this.refresh();
  }

  get runs(): TrainingRun[] {
    return this.#runs;
  }
  get steps(): RunStep[] {
    return this.#steps;
  }
  get previews(): RunPreview[] {
    return this.#previews;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  isCancelling(id: string): boolean {
    return this.#cancelling.has(id);
  }

  async refresh(): Promise<void> {
    try {
      this.#runs = await api.training.list({});
      this.#selectedId ??= this.running?.id ?? this.#runs[0]?.id ?? null;
      if (this.#selectedId) await this.select(this.#selectedId);
    } catch (err) {
      notifications.push('error', `The training runs could not be read: ${errorMessage(err)}`);
    } finally {
      this.#loaded = true;
    }
  }

  async select(id: string): Promise<void> {
    this.#selectedId = id;
    this.#steps = [];
    this.#previews = [];
    const { steps, previews } = await api.training.get({ id });
    if (this.#selectedId !== id) return;
    this.#steps = steps;
    this.#previews = previews;
  }

  /** Deletes an ended run (its steps, previews and checkpoint); its concept stays in the Library. */
  async remove(run: TrainingRun): Promise<void> {
    try {
      await api.training.delete({ id: run.id });
      this.#runs = this.#runs.filter((r) => r.id !== run.id);
      notifications.push('info', `Deleted the run ${run.name}.`);
      const next = this.running?.id ?? this.#runs[0]?.id ?? null;
      this.#selectedId = null;
      if (next) await this.select(next);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  /** Asks the run to stop (how it ended is said when it has: see JobsState). */
  async cancel(run: TrainingRun): Promise<void> {
    this.#cancelling = new Set([...this.#cancelling, run.id]);
    try {
      await api.training.cancel({ id: run.id });
    } catch (err) {
      this.#cancelling = new Set([...this.#cancelling].filter((id) => id !== run.id));
      notifications.push('error', errorMessage(err));
    }
  }

  /** Moves a waiting run in the queue (the queue's new order comes back with it). */
  async move(run: TrainingRun, to: QueueMove): Promise<void> {
    try {
      const queue = await api.training.move({ id: run.id, to });
      this.#runs = this.#runs.map((r) => queue.find((q) => q.id === r.id) ?? r);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  async resume(run: TrainingRun): Promise<void> {
    try {
      await api.training.resume({ id: run.id });
      await this.select(run.id);
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  /** A run just started from the form: show it. */
  adopt(run: TrainingRun): void {
    this.#runs = [run, ...this.#runs.filter((r) => r.id !== run.id)];
    void this.select(run.id);
  }

  destroy(): void {
    this.#stop();
  }
}

const FORM_DRAFT_KEY = 'training-form';
/** The form as its draft keeps it (loosely: the custom settings are checked as the form checks them). */
const runFormDraft = z
  .object({
    imageId: z.string().nullable(),
    maskId: z.string().nullable(),
    modelId: z.string().nullable(),
    name: z.string(),
    preset: z.enum(['fast', 'faithful', 'custom']),
    custom: z.record(z.string(), z.unknown()),
    previewPrompts: z.array(z.string()),
    previewEvery: z.number(),
  })
  .partial();

/** The "New run" form: photo, mask version, class word, model, preset or custom settings. */
export class RunFormState {
  #images = $state.raw<ImageRecord[]>([]);
  #masks = $state.raw<MaskRecord[]>([]);
  #models = $state.raw<ModelRecord[]>([]);
  /** The providers the doctor found (null until it answers): one that cannot start is not offered. */
  #providers = $state.raw<ProviderInfo[] | null>(null);
  #starting = $state(false);
  imageId = $state<string | null>(null);
  maskId = $state<string | null>(null);
  modelId = $state<string | null>(null);
  name = $state('');
  preset = $state<PresetChoice>('faithful');
  /** Custom settings, starting from the method's defaults. */
  custom = $state(learnSettings.parse({}));
  /** The user's test prompts, drawn as the run learns (whatever the preset). */
  previewPrompts = $state<string[]>([...DEFAULT_PREVIEW_PROMPTS]);
  previewEvery = $state(learnSettings.parse({}).previewEvery);
  #stop: () => void;
  readonly #stopDraft: () => void;

  readonly sdModels = $derived(this.#models.filter((m) => m.family === 'sd1'));
  readonly clipModels = $derived(this.#models.filter((m) => m.family === 'clip'));
  readonly mask = $derived(this.#masks.find((m) => m.id === this.maskId) ?? null);
  readonly settings = $derived<LearnSettingsInput>({
    ...(this.preset === 'custom' ? { ...this.custom } : { ...LEARN_PRESETS[this.preset] }),
    previewPrompts: this.previewPrompts.map((p) => p.trim()).filter(Boolean),
    previewEvery: this.previewEvery,
  });
  readonly #checked = $derived(learnSettings.safeParse(this.settings));
  readonly resolved = $derived(this.#checked.success ? this.#checked.data : learnSettings.parse({}));
  /** Steps the run will take; null while a setting is wrong (the defaults would be a wrong count). */
  readonly totalSteps = $derived(this.#checked.success ? this.resolved.steps1 + this.resolved.steps2 : null);
  readonly #issue = $derived(this.#checked.success ? null : describeSettingIssue(this.#checked.error.issues[0]!));
  /** The setting the form marks as wrong (the first one the check found). */
  readonly invalidField = $derived(this.#issue?.field ?? null);
  /** What is wrong with it, in words. */
  readonly invalidMessage = $derived(this.#issue?.message ?? null);
  /** The custom settings' device, when the doctor found it cannot start here. */
  readonly #unusableProvider = $derived(this.preset === 'custom' ? (this.#providers?.find((p) => p.name === this.custom.provider && !p.usable) ?? null) : null);
  /** What is missing or wrong before a run can start, in the words the form shows. */
  readonly missing = $derived(
    !this.imageId
      ? 'Choose a photo.'
      : !this.maskId
        ? 'This photo has no saved mask yet: make one in the Mask studio first.'
        : !this.modelId
          ? 'Choose a Stable Diffusion 1.x model (install one in Settings › Models).'
          : !this.#checked.success
            ? this.#issue!.message
            : this.#unusableProvider
              ? `${PROVIDER_LABELS[this.#unusableProvider.name]} cannot start here (${this.#unusableProvider.detail}); choose another device.`
              : null,
  );
  readonly canAddPrompt = $derived(this.previewPrompts.length < MAX_PREVIEW_PROMPTS);

  constructor() {
    this.#restoreDraft();
    this.#stop = onEvent('library', 'onChanged', () => void this.load());
    // the form is kept as it is filled in: another screen or a reload finds it so
    this.#stopDraft = $effect.root(() => {
      $effect(() => {
        writeDraft(FORM_DRAFT_KEY, {
          imageId: this.imageId,
          maskId: this.maskId,
          modelId: this.modelId,
          name: this.name,
          preset: this.preset,
          custom: $state.snapshot(this.custom),
          previewPrompts: $state.snapshot(this.previewPrompts),
          previewEvery: this.previewEvery,
        });
      });
    });
    void this.load();
    api.system
      .doctor({})
      .then((r) => (this.#providers = r.providers))
      .catch(() => {}); // every device stays offered; a run on one that cannot start says so
  }

  #restoreDraft(): void {
    const d = readDraft(FORM_DRAFT_KEY, runFormDraft)?.value;
    if (!d) return;
    if (d.imageId !== undefined) this.imageId = d.imageId;
    if (d.maskId !== undefined) this.maskId = d.maskId;
    if (d.modelId !== undefined) this.modelId = d.modelId;
    if (d.name !== undefined) this.name = d.name;
    if (d.preset) this.preset = d.preset;
    // a setting the schema no longer has is dropped; a value out of range stays, marked as the form marks it
    if (d.custom) {
      const known = learnSettings.parse({});
      for (const [k, v] of Object.entries(d.custom))
        if (k in known && typeof v === typeof known[k as keyof typeof known]) Object.assign(this.custom, { [k]: v });
    }
    if (d.previewPrompts) this.previewPrompts = d.previewPrompts.slice(0, MAX_PREVIEW_PROMPTS);
    if (d.previewEvery !== undefined) this.previewEvery = d.previewEvery;
  }

  get providers(): ProviderInfo[] | null {
    return this.#providers;
  }
  get images(): ImageRecord[] {
    return this.#images;
  }
  get masks(): MaskRecord[] {
    return this.#masks;
  }
  get starting(): boolean {
    return this.#starting;
  }

  async load(): Promise<void> {
    try {
      const [{ images }, models] = await Promise.all([api.library.list({}), api.models.list({})]);
      this.#images = images;
      this.#models = models;
      if (this.modelId && !models.some((m) => m.id === this.modelId)) this.modelId = null;
      this.modelId ??= models.find((m) => m.family === 'sd1')?.id ?? null;
      if (this.imageId && !images.some((i) => i.id === this.imageId)) this.imageId = null;
      // a photo without a mask cannot be trained on: once another has one (just masked, say), that one is taken
      const current = images.find((i) => i.id === this.imageId);
      if (current && current.maskedAs.length === 0 && images.some((i) => i.maskedAs.length > 0)) this.imageId = null;
      // a photo that can be trained on (one with a saved mask) first
      this.imageId ??= images.find((i) => i.maskedAs.length > 0)?.id ?? images[0]?.id ?? null;
      await this.loadMasks();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  async choosePhoto(id: string): Promise<void> {
    this.imageId = id;
    this.maskId = null;
    await this.loadMasks();
  }

  private async loadMasks(): Promise<void> {
    const id = this.imageId;
    if (!id) {
      this.#masks = [];
      return;
    }
    const masks = await api.masks.list({ imageId: id });
    if (id !== this.imageId) return;
    this.#masks = masks;
    if (!masks.some((m) => m.id === this.maskId)) this.maskId = masks[0]?.id ?? null;
  }

  addPrompt(): void {
    if (this.canAddPrompt) this.previewPrompts.push('* {class} ');
  }

  removePrompt(index: number): void {
    this.previewPrompts.splice(index, 1);
  }

  /** A model as the user knows it: its name if installed, else the file's name. */
  modelLabel(ref: string): string {
    return this.#models.find((m) => m.id === ref)?.name ?? ref.split(/[\\/]/).pop() ?? ref;
  }

  /** Starts (or queues) the run; returns it for the runs list. */
  async start(): Promise<TrainingRun | null> {
    if (this.missing || !this.mask) return null;
    this.#starting = true;
    try {
      const run = await api.training.start({
        imageId: this.imageId!,
        classWord: this.mask.classWord,
        maskId: this.mask.id,
        model: this.modelId!,
        settings: this.settings,
        ...(this.name.trim() ? { name: this.name.trim() } : {}),
      });
      this.name = '';
      return run;
    } catch (err) {
      notifications.push('error', `The run could not start: ${errorMessage(err)}`);
      return null;
    } finally {
      this.#starting = false;
    }
  }

  destroy(): void {
    this.#stop();
    this.#stopDraft();
  }
}

/** A settings problem in the form's words: which field, and what is wrong. */
