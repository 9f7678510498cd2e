// A concept's report card in its detail view: its stored reports, the one shown (and one to compare it with, of
// any concept), measuring a new one as a job, and exporting a report as JSON or CSV.
import type { ConceptRecord, EvaluationReport, EvaluationSummary, JobInfo, ModelRecord } from '../../../../src-preload/contract/index.js';
import type { EvaluationSetName } from '../../../../src-preload/contract/evaluations.js';
import { api, errorMessage, onEvent } from '../api.js';
import { jobsState } from './jobs.svelte.js';
import { notifications } from './notifications.svelte.js';

export class ReportCardState {
  #all = $state.raw<EvaluationSummary[]>([]);
  #report = $state.raw<EvaluationReport | null>(null);
  #other = $state.raw<EvaluationReport | null>(null);
  #models = $state.raw<ModelRecord[]>([]);
  #jobId = $state<string | null>(null);
  #loaded = $state(false);
  /** The report shown, and the one beside it ('' for none). */
  shownId = $state('');
  compareId = $state('');
  /** The next measurement's settings. */
  set = $state<EvaluationSetName>('default');
  label = $state('');
  sdModel = $state('');
  readonly #stops: Array<() => void> = [];

  constructor(private readonly concept: () => ConceptRecord) {
    this.#stops.push(
      onEvent('evaluations', 'onChanged', ({ conceptId }) => void this.refresh(conceptId === this.concept().id)),
      onEvent('models', 'onChanged', () => void this.refresh(false)),
    );
    void this.refresh(true);
  }

  get loaded(): boolean {
    return this.#loaded;
  }
  /** This concept's reports, newest first. */
  readonly reports = $derived(this.#all.filter((e) => e.conceptId === this.concept().id));
  /** Every report in the library but the one shown: what it can be set beside. */
  readonly comparable = $derived(this.#all.filter((e) => e.id !== this.shownId));
  get report(): EvaluationReport | null {
    return this.#report;
  }
  get other(): EvaluationReport | null {
    return this.#other;
  }
  readonly sdModels = $derived(this.#models.filter((m) => m.family === 'sd1'));
  /** Which metric models are installed (the report says the rest). */
  readonly metricModels = $derived({
    clip: this.#models.some((m) => m.family === 'clip'),
    dino: this.#models.some((m) => m.family === 'dino'),
    lpips: this.#models.some((m) => m.family === 'lpips'),
  });
  /** The measurement running for this concept, if any. */
  readonly job = $derived<JobInfo | null>(this.#jobId ? (jobsState.jobs.find((j) => j.id === this.#jobId) ?? null) : null);
  readonly running = $derived(this.job !== null && (this.job.state === 'running' || this.job.state === 'queued'));
  readonly cancelling = $derived(this.#jobId !== null && jobsState.isCancelling(this.#jobId));

  /** Reads the list (and the models); `showNewest` moves to this concept's newest report. */
  async refresh(showNewest: boolean): Promise<void> {
    try {
      const [all, models] = await Promise.all([api.evaluations.list({}), api.models.list({})]);
      this.#all = all;
      this.#models = models;
      if (!this.sdModel || !models.some((m) => m.id === this.sdModel)) {
        const concept = this.concept();
        this.sdModel = (models.find((m) => m.id === concept.baseModelId && m.family === 'sd1') ?? models.find((m) => m.family === 'sd1'))?.id ?? '';
      }
      const mine = all.filter((e) => e.conceptId === this.concept().id);
      if (showNewest || !mine.some((e) => e.id === this.shownId)) await this.show(mine[0]?.id ?? '');
      if (this.compareId && !all.some((e) => e.id === this.compareId)) await this.compare('');
      // a job this concept started on an earlier page is still followed
      this.#jobId ??=
        jobsState.jobs.find(
          (j) =>
            j.kind === 'evaluate' && j.outputs.length === 0 && (j.state === 'running' || j.state === 'queued') && j.title.includes(`"${this.concept().name}"`),
        )?.id ?? null;
    } catch (err) {
      notifications.push('error', `The report cards could not be read: ${errorMessage(err)}`);
    } finally {
      this.#loaded = true;
    }
  }

  async show(id: string): Promise<void> {
    this.shownId = id;
    this.#report = id ? await api.evaluations.get({ id }) : null;
    if (this.compareId === id) await this.compare('');
  }

  async compare(id: string): Promise<void> {
    this.compareId = id;
    this.#other = id ? await api.evaluations.get({ id }) : null;
  }

  async measure(): Promise<void> {
    if (!this.sdModel) {
      notifications.push('error', 'Add a Stable Diffusion 1.x model in Settings › Models first: the report card draws its images with it.');
      return;
    }
    try {
      const label = this.label.trim();
      const { jobId } = await api.evaluations.start({ conceptId: this.concept().id, model: this.sdModel, set: this.set, ...(label ? { label } : {}) });
      this.#jobId = jobId;
    } catch (err) {
      notifications.push('error', `The report card could not start: ${errorMessage(err)}`);
    }
  }

  cancel(): Promise<void> {
    return this.#jobId ? jobsState.cancel(this.#jobId) : Promise.resolve();
  }

  /** The shown report as a file the browser saves. */
  async download(format: 'json' | 'csv'): Promise<void> {
    if (!this.#report) return;
    try {
      const { fileName, text } = await api.evaluations.exportReport({ id: this.#report.id, format });
      const url = URL.createObjectURL(new Blob([text], { type: format === 'json' ? 'application/json' : 'text/csv' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      notifications.push('error', `The export failed: ${errorMessage(err)}`);
    }
  }

  async remove(): Promise<void> {
    if (!this.#report) return;
    try {
      await api.evaluations.remove({ id: this.#report.id });
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  destroy(): void {
    for (const stop of this.#stops) stop();
  }
}
