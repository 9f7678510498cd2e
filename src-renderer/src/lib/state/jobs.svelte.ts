import type { JobInfo } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
import { notifications } from './notifications.svelte.js';

/** Running and recent jobs, kept current from the jobs.onUpdate event. */
export class JobsState {
  #jobs = $state.raw<JobInfo[]>([]);

  get jobs(): JobInfo[] {
    return this.#jobs;
  }
  readonly active = $derived(this.#jobs.filter((j) => j.state === 'running' || j.state === 'queued'));

  constructor() {
    onEvent('jobs', 'onUpdate', (info) => {
      const others = this.#jobs.filter((j) => j.id !== info.id);
      this.#jobs = [info, ...others].slice(0, 20);
    });
    api.jobs
      .list({})
      .then((list) => (this.#jobs = list))
      .catch(() => {});
  }

  async cancel(id: string): Promise<void> {
    try {
      await api.jobs.cancel({ id });
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }
}

export const jobsState = new JobsState();
