// The job runtime: a lane runs its jobs one after another, a queued job cancelled leaves at once and never runs,
// and a finished job names what it made.
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../src-preload/contract/index.js';
import { AppError } from '../../../src-main/common/app-error.js';
import { JobManager } from '../../../src-main/jobs/job-manager.js';

/** A job that runs until released (or cancelled). */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('JobManager', () => {
  it('runs a lane one job at a time; a queued job cancelled ends at once and never runs', async () => {
    const updates: JobInfo[] = [];
    const jobs = new JobManager((info) => updates.push(info));
    const first = gate();
    const ran: string[] = [];
    const a = jobs.start('generate', 'A', async () => (ran.push('A'), await first.opened, ['gen_a']), { lane: 'gpu', outputs: (ids) => ids });
    const b = jobs.start('generate', 'B', async () => (ran.push('B'), ['gen_b']), { lane: 'gpu', outputs: (ids) => ids });
    const c = jobs.start('generate', 'C', async () => (ran.push('C'), ['gen_c']), { lane: 'gpu', outputs: (ids) => ids });
    const state = (id: string) => jobs.list().find((j) => j.id === id)!.state;
    expect([state(a.jobId), state(b.jobId), state(c.jobId)]).toEqual(['running', 'queued', 'queued']);
    b.done.catch(() => undefined);

    expect(jobs.cancel(b.jobId)).toBe(true);
    // ended now, while A still runs
    expect(state(b.jobId)).toBe('cancelled');
    expect(updates.filter((u) => u.id === b.jobId).map((u) => u.state)).toEqual(['queued', 'cancelled']);
    expect(jobs.cancel(b.jobId)).toBe(false);

    first.open();
    await expect(a.done).resolves.toEqual(['gen_a']);
    await expect(b.done).rejects.toThrow(/B: cancelled before it started/);
    await expect(c.done).resolves.toEqual(['gen_c']);
    expect(ran).toEqual(['A', 'C']);
    const listed = jobs.list();
    expect(listed.find((j) => j.id === a.jobId)).toMatchObject({ state: 'succeeded', outputs: ['gen_a'] });
    expect(listed.find((j) => j.id === b.jobId)).toMatchObject({ state: 'cancelled', outputs: [], error: { code: 'cancelled' } });
    // one end published per job
    expect(updates.filter((u) => u.id === b.jobId && u.finishedAt !== null)).toHaveLength(1);
  });

  it('cancels a running job through its signal, and a failure keeps its reason', async () => {
    const jobs = new JobManager(() => undefined);
    const running = jobs.start(
      'generate',
      'Long',
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new AppError('cancelled', 'Long: cancelled at step 3 of 40.')))),
    );
    running.done.catch(() => undefined);
    expect(jobs.cancel(running.jobId)).toBe(true);
    await expect(running.done).rejects.toThrow('Long: cancelled at step 3 of 40.');
    expect(jobs.list()[0]).toMatchObject({ state: 'cancelled', error: { message: 'Long: cancelled at step 3 of 40.' } });

    const failing = jobs.start('import', 'Broken', async () => {
      throw new AppError('invalid-input', 'not a photo');
    });
    await expect(failing.done).rejects.toThrow('not a photo');
    expect(jobs.list().find((j) => j.id === failing.jobId)).toMatchObject({ state: 'failed', error: { code: 'invalid-input', message: 'not a photo' } });
  });
});
