import type { DoctorReport, Preferences, ProviderChoice } from '../../../../src-preload/contract/index.js';
import { api, errorMessage } from '../api.js';

/** The doctor report (GPU, execution providers, Electron) and the app's preferences, for the Settings screen. */
export class SystemState {
  #report = $state.raw<DoctorReport | null>(null);
  #preferences = $state.raw<Preferences | null>(null);
  #checking = $state(false);
  #error = $state<string | null>(null);

  get report(): DoctorReport | null {
    return this.#report;
  }
  get preferences(): Preferences | null {
    return this.#preferences;
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
      [this.#report, this.#preferences] = await Promise.all([api.system.doctor({}), api.system.preferences({})]);
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#checking = false;
    }
  }

  /** Where runs, drawings and masks go when they leave the device to the app. */
  async setProvider(provider: ProviderChoice): Promise<void> {
    try {
      this.#preferences = await api.system.setPreferences({ provider });
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }
}
