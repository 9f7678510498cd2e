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

  constructor(private readonly onUpdate: (info: JobInfo) => void) {}

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new AppError('not-found', `No job ${id}.`);
    if (job.info.state !== 'running' && job.info.state !== 'queued') return false;
    job.controller.abort();
    return true;
  }

  async run<T>(kind: JobInfo['kind'], title: string, work: (ctx: JobContext) => Promise<T>): Promise<{ jobId: string; result: T }> {
    const controller = new AbortController();
    const info: JobInfo = {
      id: newId('job'),
      kind,
      title,
      state: 'running',
      done: 0,
      total: 0,
      message: '',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
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
    try {
      const result = await work(ctx);
      this.finish(info, 'succeeded', null);
      return { jobId: info.id, result };
    } catch (err) {
      const error = toApiError(err);
      this.finish(info, error.code === 'cancelled' ? 'cancelled' : 'failed', error);
      throw err;
    }
  }

  private finish(info: JobInfo, state: JobInfo['state'], error: JobInfo['error']): void {
    Object.assign(info, { state, error, finishedAt: new Date().toISOString() });
    this.publish(info);
  }

  private publish(info: JobInfo): void {
    this.onUpdate({ ...info });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.finishedAt !== null);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.info.id);
  }
}
