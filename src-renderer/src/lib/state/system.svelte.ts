import type { DoctorReport } from '../../../../src-preload/contract/index.js';
import { api, errorMessage } from '../api.js';

/** The doctor report (GPU, execution providers, Electron) for the Settings screen. */
export class SystemState {
  #report = $state.raw<DoctorReport | null>(null);
  #checking = $state(false);
  #error = $state<string | null>(null);

  get report(): DoctorReport | null {
    return this.#report;
  }
  get checking(): boolean {
    return this.#checking;
  }
  get error(): string | null {
    return this.#error;
  }

  async check(): Promise<void> {
    this.#checking = true;
    try {
      this.#report = await api.system.doctor({});
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#checking = false;
    }
  }
}
