// Running and recent jobs (kept current from jobs.onUpdate), and how each job and training run ended, said once
// as a message — also for one that ended while the page was away (reloaded, or closed and opened again).
import type { JobInfo, TrainingRun } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
import { notifications, type PushOptions, type ToastKind } from './notifications.svelte.js';

const WATCH_KEY = 'singleinsert.watching';
const ACTIVE_RUN: ReadonlyArray<TrainingRun['state']> = ['queued', 'running'];
const isActive = (job: JobInfo) => job.state === 'running' || job.state === 'queued';

/** What a page saw running: kept in the browser, so the next page says how it ended. */
interface Watching {
  jobs: string[];
  runs: string[];
}

function readWatching(): Watching {
  try {
    const raw = JSON.parse(localStorage.getItem(WATCH_KEY) ?? '{}') as Partial<Watching>;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(-100) : []);
    return { jobs: ids(raw.jobs), runs: ids(raw.runs) };
  } catch {
    return { jobs: [], runs: [] };
  }
}

/** How a job ended, in the words of its message ('' for an end its caller says itself). */
export function jobEnding(job: JobInfo): { kind: ToastKind; text: string; options: PushOptions } | null {
  const options: PushOptions = { screen: null };
  if (job.state === 'succeeded') {
    if (job.kind === 'evaluate')
      return {
        kind: 'success',
        text: `${job.title}: ready.`,
        options: { ...options, action: { label: 'Open the report', href: `#/library/${job.outputs[1] ?? ''}` } },
      };
    if (job.kind !== 'generate') return { kind: 'success', text: `${job.title}: done.`, options };
    const n = job.outputs.length;
    return {
      kind: 'success',
      text: `Drawn: ${n} image${n === 1 ? '' : 's'} (${job.title.replace(/^Draw /, '')}).`,
      options: { ...options, action: { label: 'See in the Gallery', href: '#/gallery' } },
    };
  }
  if (job.state === 'cancelled') return { kind: 'info', text: `Cancelled: ${job.title}${job.total ? ` (at ${job.done} of ${job.total})` : ''}.`, options };
  if (job.state === 'failed') return { kind: 'error', text: `${job.title} failed: ${job.error?.message ?? 'unknown error'}`, options };
  return null;
}

/** How a training run ended, for its message (null while it runs). */
export function runEnding(run: TrainingRun): { kind: ToastKind; text: string; options: PushOptions } | null {
  const options: PushOptions = { screen: null };
  switch (run.state) {
    case 'succeeded':
      return {
        kind: 'success',
        text: `Learned "${run.name}" in ${run.totalSteps} steps: the concept is in the Library.`,
        options: {
          ...options,
          action: run.conceptId ? { label: 'Use in Compose', href: `#/compose/${run.conceptId}` } : { label: 'Open Training', href: '#/training' },
        },
      };
    case 'cancelled':
      return {
        kind: 'info',
        text: `"${run.name}" was cancelled after step ${run.step} of ${run.totalSteps}; resume it from step ${run.checkpointStep}.`,
        options: { ...options, action: { label: 'Open the run', href: '#/training' } },
      };
    case 'failed':
    case 'interrupted':
      return {
        kind: 'error',
        text: `"${run.name}" stopped after step ${run.step} of ${run.totalSteps}: ${run.error ?? 'interrupted'}`,
        options: { ...options, action: { label: 'Open the run', href: '#/training' } },
      };
    default:
      return null;
  }
}

export class JobsState {
  #jobs = $state.raw<JobInfo[]>([]);
  /** Jobs whose Cancel was asked for, until they end: their buttons say so at once. */
  #cancelling = $state.raw<ReadonlySet<string>>(new Set());
  #watching: Watching = readWatching();
  /** Jobs of an earlier page: their callers are gone, so their ends are said here whatever their kind. */
  readonly #orphans = new Set(this.#watching.jobs);
  readonly #stops: Array<() => void> = [];

  get jobs(): JobInfo[] {
    return this.#jobs;
  }
  readonly active = $derived(this.#jobs.filter(isActive));

  isCancelling(id: string): boolean {
    return this.#cancelling.has(id);
  }

  constructor() {
    this.#stops.push(
      onEvent('jobs', 'onUpdate', (info) => {
        const others = this.#jobs.filter((j) => j.id !== info.id);
        this.#jobs = [info, ...others].slice(0, 20);
        this.#seeJob(info);
      }),
      onEvent('training', 'onProgress', ({ run }) => this.#seeRun(run)),
    );
    void this.#catchUp();
  }

  /** What ended while no page watched: said now; what still runs is watched on. */
  async #catchUp(): Promise<void> {
    try {
      const [jobs, runs] = await Promise.all([api.jobs.list({}), api.training.list({})]);
      this.#jobs = jobs;
      const known = new Set([...jobs.map((j) => j.id), ...runs.map((r) => r.id)]);
      // a job the server no longer knows (it was restarted) cannot be said: forgotten
      this.#watching = { jobs: this.#watching.jobs.filter((id) => known.has(id)), runs: this.#watching.runs.filter((id) => known.has(id)) };
      for (const job of jobs) this.#seeJob(job);
      for (const run of runs) this.#seeRun(run);
    } catch {
      // the page has no access (or the server is gone): that is said elsewhere
    }
  }

  #seeJob(job: JobInfo): void {
    if (isActive(job)) return this.#watch('jobs', job.id);
    if (!this.#watching.jobs.includes(job.id)) return;
    this.#unwatch('jobs', job.id);
    this.#cancelling = without(this.#cancelling, job.id);
    // an import's or a download's caller says its own result; a drawing's, a report card's and an orphan's are said here
    if (job.kind !== 'generate' && job.kind !== 'evaluate' && !this.#orphans.has(job.id)) return;
    const ending = jobEnding(job);
    if (ending) notifications.push(ending.kind, ending.text, ending.options);
  }

  #seeRun(run: TrainingRun): void {
    if (ACTIVE_RUN.includes(run.state)) return this.#watch('runs', run.id);
    if (!this.#watching.runs.includes(run.id)) return;
    this.#unwatch('runs', run.id);
    const ending = runEnding(run);
    if (ending) notifications.push(ending.kind, ending.text, ending.options);
  }

  #watch(list: keyof Watching, id: string): void {
    if (this.#watching[list].includes(id)) return;
    this.#watching = { ...this.#watching, [list]: [...this.#watching[list], id] };
    this.#save();
  }

  #unwatch(list: keyof Watching, id: string): void {
    this.#watching = { ...this.#watching, [list]: this.#watching[list].filter((x) => x !== id) };
    this.#save();
  }

  #save(): void {
    try {
      localStorage.setItem(WATCH_KEY, JSON.stringify(this.#watching));
    } catch {
      // private mode: this page still says each end; a reload may miss one
    }
  }

  async cancel(id: string): Promise<void> {
    this.#cancelling = new Set([...this.#cancelling, id]);
    try {
      const { cancelled } = await api.jobs.cancel({ id });
      if (!cancelled) this.#cancelling = without(this.#cancelling, id);
    } catch (err) {
      this.#cancelling = without(this.#cancelling, id);
      notifications.push('error', errorMessage(err));
    }
  }

  destroy(): void {
    for (const stop of this.#stops) stop();
  }
}

function without(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  if (!set.has(id)) return set;
  const next = new Set(set);
  next.delete(id);
  return next;
}

export const jobsState = new JobsState();
