import type { ConceptRecord, ImageRecord, ImportResult, ModelRecord } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent, toImportSources } from '../api.js';
import { notifications } from './notifications.svelte.js';

export type LibraryItem = { kind: 'image'; record: ImageRecord } | { kind: 'concept'; record: ConceptRecord };

/** The library as the renderer shows it; refreshed whenever the main side reports a change. */
export class LibraryState {
  #images = $state.raw<ImageRecord[]>([]);
  #concepts = $state.raw<ConceptRecord[]>([]);
  #models = $state.raw<ModelRecord[]>([]);
  #loading = $state(true);
  #importing = $state(false);
  #loadError = $state<string | null>(null);
  readonly #stop: () => void;
  /** The item waiting for the user to confirm its deletion. */
  pendingDelete = $state<LibraryItem | null>(null);
  readonly isEmpty = $derived(this.#images.length === 0 && this.#concepts.length === 0);

  constructor() {
    this.#stop = onEvent('library', 'onChanged', () => void this.refresh());
    void this.refresh();
  }

  get images(): ImageRecord[] {
    return this.#images;
  }
  get concepts(): ConceptRecord[] {
    return this.#concepts;
  }
  /** Installed models, to filter concepts by the one they were learned on. */
  get models(): ModelRecord[] {
    return this.#models;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get importing(): boolean {
    return this.#importing;
  }
  get loadError(): string | null {
    return this.#loadError;
  }

  /** Stops listening for changes (the screen is gone). */
  destroy(): void {
    this.#stop();
  }

  async refresh(): Promise<void> {
    try {
      const [{ images, concepts }, models] = await Promise.all([api.library.list({}), api.models.list({})]);
      this.#images = images;
      this.#concepts = concepts;
      this.#models = models;
      this.#loadError = null;
    } catch (err) {
      this.#loadError = errorMessage(err);
    } finally {
      this.#loading = false;
    }
  }

  async importFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    this.#importing = true;
    try {
      const sources = await toImportSources(files);
      const { results } = await api.images.import({ sources });
      this.report(results);
      await this.refresh();
    } catch (err) {
      notifications.push('error', `Import failed: ${errorMessage(err)}`);
    } finally {
      this.#importing = false;
    }
  }

  async confirmDelete(): Promise<void> {
    const item = this.pendingDelete;
    this.pendingDelete = null;
    if (!item) return;
    try {
      if (item.kind === 'image') await api.library.deleteImage({ id: item.record.id });
      else await api.library.deleteConcept({ id: item.record.id });
      notifications.push('success', `Deleted ${item.record.name}.`);
      await this.refresh();
    } catch (err) {
      notifications.push('error', `Could not delete ${item.record.name}: ${errorMessage(err)}`);
    }
  }

  private report(results: ImportResult[]): void {
    const imported = results.filter((r) => r.status === 'imported').length;
    const duplicates = results.filter((r) => r.status === 'duplicate');
    if (imported) notifications.push('success', `Imported ${imported} photo${imported === 1 ? '' : 's'}.`);
    for (const d of duplicates) notifications.push('info', `${d.name} is already in the library.`);
    for (const r of results) if (r.status === 'failed') notifications.push('error', `${r.name}: ${r.error.message}`);
  }
}
