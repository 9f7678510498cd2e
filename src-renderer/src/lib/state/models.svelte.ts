import type { ModelRecord } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
import { notifications } from './notifications.svelte.js';

/** Installed models for the Settings screen: list, add from a path or URL, remove. */
export class ModelsState {
  #models = $state.raw<ModelRecord[]>([]);
  #adding = $state(false);
  #scanning = $state(false);
  #lastScan = $state.raw<{ added: number; kept: number; removed: number; refused: Array<{ path: string; reason: string }> } | null>(null);
  #pendingRemove = $state.raw<{ model: ModelRecord; concepts: string[] } | null>(null);
  readonly #stop: () => void;
  /** What the person types: a path or URL to add, its sha256, whether to copy it; a folder to scan. */
  source = $state('');
  sha256 = $state('');
  /** What is wrong with the form's fields before anything is sent, naming the field (null when nothing is). */
  readonly problem = $derived.by((): { field: 'source' | 'sha256'; message: string } | null => {
    const source = this.source.trim();
    if (/^https?:\/\//.test(source)) {
      if (!URL.canParse(source)) return { field: 'source', message: 'The address is not a whole URL (https://host/path/model.safetensors).' };
      const sha = this.sha256.trim();
      if (sha && !/^[0-9a-fA-F]{64}$/.test(sha))
        return { field: 'sha256', message: `The sha256 has ${sha.length} characters; it is 64 hexadecimal ones (0–9, a–f). Leave it empty to skip the check.` };
    }
    return null;
  });
  copy = $state(false);
  scanFolder = $state('');

  constructor() {
    this.#stop = onEvent('models', 'onChanged', () => void this.refresh());
    void this.refresh();
  }

  get models(): ModelRecord[] {
    return this.#models;
  }
  get adding(): boolean {
    return this.#adding;
  }
  get scanning(): boolean {
    return this.#scanning;
  }
  get lastScan() {
    return this.#lastScan;
  }

  /** Stops listening for changes (the screen is gone). */
  destroy(): void {
    this.#stop();
  }

  async refresh(): Promise<void> {
    try {
      this.#models = await api.models.list({});
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  async add(): Promise<void> {
    const source = this.source.trim();
    if (!source || this.problem) return;
    this.#adding = true;
    try {
      const model = /^https?:\/\//.test(source)
        ? await api.models.addUrl({ url: source, ...(this.sha256.trim() ? { sha256: this.sha256.trim() } : {}) })
        : await api.models.addPath({ path: source, copy: this.copy });
      notifications.push('success', `Installed ${model.name} (${model.family}).`);
      this.source = '';
      this.sha256 = '';
      await this.refresh();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#adding = false;
    }
  }

  /** Registers an A1111 or ComfyUI install (the folder in `scanFolder`) in place. */
  async scan(): Promise<void> {
    const folder = this.scanFolder.trim();
    if (!folder) return;
    this.#scanning = true;
    try {
      const r = await api.models.scan({ folder });
      this.#lastScan = { added: r.added.length, kept: r.kept, removed: r.removed.length, refused: r.refused };
      notifications.push(
        'success',
        `Scanned ${folder}: ${r.added.length} added, ${r.kept} already known, ${r.removed.length} gone, ${r.refused.length} refused.`,
      );
      await this.refresh();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#scanning = false;
    }
  }

  /** The model waiting for the person to confirm its removal, with the names of the concepts learned on it. */
  get pendingRemove(): { model: ModelRecord; concepts: string[] } | null {
    return this.#pendingRemove;
  }

  /** Asks first: says what goes (the files, for a copy the library owns) and which concepts were learned on it. */
  async askRemove(model: ModelRecord): Promise<void> {
    try {
      const { concepts } = await api.library.list({});
      this.#pendingRemove = { model, concepts: concepts.filter((c) => c.baseModelId === model.id).map((c) => c.name) };
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  cancelRemove(): void {
    this.#pendingRemove = null;
  }

  async confirmRemove(): Promise<void> {
    const pending = this.#pendingRemove;
    this.#pendingRemove = null;
    if (pending) await this.remove(pending.model);
  }

  private async remove(model: ModelRecord): Promise<void> {
    try {
      const { deletedFiles } = await api.models.remove({ id: model.id });
      notifications.push('success', deletedFiles ? `Removed ${model.name} and its files.` : `Removed ${model.name}; its files stay at ${model.path}.`);
      await this.refresh();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }
}
