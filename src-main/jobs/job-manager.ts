import type { JobInfo } from '../../src-preload/contract/index.js';
import { AppError, toApiError } from '../common/app-error.js';
import { newId } from '../common/ids.js';

export interface JobContext {
  signal: AbortSignal;
  progress(done: number, total: number, message: string): void;
}

const KEEP_FINISHED = 50;

/**
 * Long-running work with progress and cancellation. Every change is published
 * through `onUpdate`; the caller awaits the job's own result.
 */
export class JobManager {
  private readonly jobs = new Map<string, { info: JobInfo; controller: AbortController }>();
  /** Per lane, the end of the last job queued in it: jobs of one lane run one after another. */
  private readonly lanes = new Map<string, Promise<unknown>>();

  constructor(private readonly onUpdate: (info: JobInfo) => void) {}

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info, outputs: [...j.info.outputs] }));
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new AppError('not-found', `No job ${id}.`);
    if (job.info.state !== 'running' && job.info.state !== 'queued') return false;
    job.controller.abort();
    // one still waiting never runs: it leaves the queue now, not when the job before it ends
    if (job.info.state === 'queued') this.finish(job.info, 'cancelled', { code: 'cancelled', message: `${job.info.title}: cancelled before it started.` });
    return true;
  }

  async run<T>(kind: JobInfo['kind'], title: string, work: (ctx: JobContext) => Promise<T>): Promise<{ jobId: string; result: T }> {
    const { jobId, done } = this.start(kind, title, work);
    return { jobId, result: await done };
  }

  /**
   * Starts a job and returns its id at once; `done` settles with its result. Jobs given the same
   * `lane` wait for the ones before them (one GPU job at a time); a job cancelled while it waits never runs.
   */
  start<T>(
    kind: JobInfo['kind'],
    title: string,
    work: (ctx: JobContext) => Promise<T>,
    options: { lane?: string; outputs?: (result: T) => string[] } = {},
  ): { jobId: string; done: Promise<T> } {
    const controller = new AbortController();
    const before = options.lane ? this.lanes.get(options.lane) : undefined;
    const info: JobInfo = {
      id: newId('job'),
      kind,
      title,
      state: before ? 'queued' : 'running',
      done: 0,
      total: 0,
      message: '',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      outputs: [],
    };
    this.jobs.set(info.id, { info, controller });
    this.prune();
    this.publish(info);
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (done, total, message) => {
        Object.assign(info, { done, total, message });
        this.publish(info);
      },
    };
    const done = (async () => {
      if (before) {
        await before.catch(() => undefined);
        if (controller.signal.aborted) throw new AppError('cancelled', `${title}: cancelled before it started.`);
        Object.assign(info, { state: 'running', startedAt: new Date().toISOString() });
        this.publish(info);
      }
      return work(ctx);
    })().then(
      (result) => {
        info.outputs = options.outputs?.(result) ?? [];
        this.finish(info, 'succeeded', null);
        return result;
      },
      (err: unknown) => {
        const error = toApiError(err);
        this.finish(info, error.code === 'cancelled' ? 'cancelled' : 'failed', error);
        throw err;
      },
    );
    const tail = done.catch(() => undefined); // a job's failure is its state; callers may not await it
    if (options.lane) {
      const lane = options.lane;
      this.lanes.set(lane, tail);
      void tail.then(() => {
        if (this.lanes.get(lane) === tail) this.lanes.delete(lane);
      });
    }
    return { jobId: info.id, done };
  }

  private finish(info: JobInfo, state: JobInfo['state'], error: JobInfo['error']): void {
    if (info.finishedAt !== null) return; // a queued job cancelled: it ended then
    Object.assign(info, { state, error, finishedAt: new Date().toISOString() });
    this.publish(info);
  }

  private publish(info: JobInfo): void {
    this.onUpdate({ ...info, outputs: [...info.outputs] });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.finishedAt !== null);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.info.id);
  }
}
