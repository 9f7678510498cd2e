import type { GenerationRecord } from '../../../../src-preload/contract/index.js';
import { api, errorMessage } from '../api.js';
import { notifications } from './notifications.svelte.js';

/** Generated images, newest first. */
export class GalleryState {
  items = $state.raw<GenerationRecord[]>([]);
  loading = $state(true);
  open = $state.raw<GenerationRecord | null>(null);
  pendingDelete = $state.raw<GenerationRecord | null>(null);

  constructor() {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.items = await api.generations.list({});
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.loading = false;
    }
  }

  async confirmDelete(): Promise<void> {
    const item = this.pendingDelete;
    this.pendingDelete = null;
    if (!item) return;
    try {
      await api.generations.remove({ id: item.id });
      if (this.open?.id === item.id) this.open = null;
      await this.refresh();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }
}
