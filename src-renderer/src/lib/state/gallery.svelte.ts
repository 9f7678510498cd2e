// The Gallery: generated images newest first, favourites, one open with its settings, two side by side.
import type { GenerationRecord } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
import { notifications } from './notifications.svelte.js';

export class GalleryState {
  #items = $state.raw<GenerationRecord[]>([]);
  #conceptNames = $state.raw<Record<string, string>>({});
  #loading = $state(true);
  #openId = $state<string | null>(null);
  #compareIds = $state<string[]>([]);
  favoritesOnly = $state(false);
  pendingDelete = $state.raw<GenerationRecord | null>(null);
  #stop: () => void;

  readonly shown = $derived(this.favoritesOnly ? this.#items.filter((g) => g.favorite) : this.#items);
  readonly open = $derived(this.#items.find((g) => g.id === this.#openId) ?? null);
  readonly compared = $derived(this.#compareIds.map((id) => this.#items.find((g) => g.id === id)).filter((g): g is GenerationRecord => !!g));

  constructor() {
    // a drawing that ends adds its images
    this.#stop = onEvent('generations', 'onProgress', (p) => p.generationIds && void this.refresh());
    void this.refresh();
  }

  get items(): GenerationRecord[] {
    return this.#items;
  }
  get loading(): boolean {
    return this.#loading;
  }

  async refresh(): Promise<void> {
    try {
      const [items, { concepts }] = await Promise.all([api.generations.list({}), api.library.list({})]);
      this.#items = items;
      this.#conceptNames = Object.fromEntries(concepts.map((c) => [c.id, c.name]));
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#loading = false;
    }
  }

  /** The concepts an image used, as a person reads them: "* Rex ×1, *2 Straw hat ×0.8". */
  conceptsLine(g: GenerationRecord): string {
    return g.concepts.map((c) => `${c.placeholder} ${this.#conceptNames[c.conceptId] ?? '(deleted)'} ×${c.scale}`).join(', ');
  }

  show(id: string | null): void {
    this.#openId = id;
  }

  /** Marks an image for the side-by-side view (two at most: a third replaces the older one). */
  toggleCompare(id: string): void {
    this.#compareIds = this.#compareIds.includes(id) ? this.#compareIds.filter((x) => x !== id) : [...this.#compareIds, id].slice(-2);
  }
  isCompared(id: string): boolean {
    return this.#compareIds.includes(id);
  }
  clearCompare(): void {
    this.#compareIds = [];
  }

  async toggleFavorite(item: GenerationRecord): Promise<void> {
    try {
      const updated = await api.generations.setFavorite({ id: item.id, favorite: !item.favorite });
      this.#items = this.#items.map((g) => (g.id === updated.id ? updated : g));
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  async confirmDelete(): Promise<void> {
    const item = this.pendingDelete;
    this.pendingDelete = null;
    if (!item) return;
    try {
      await api.generations.remove({ id: item.id });
      if (this.#openId === item.id) this.#openId = null;
      this.#compareIds = this.#compareIds.filter((x) => x !== item.id);
      await this.refresh();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    }
  }

  /** Puts the image's prompt on the clipboard, and says so. */
  async copyPrompt(g: GenerationRecord): Promise<void> {
    try {
      await navigator.clipboard.writeText(g.prompt);
      notifications.push('success', 'Prompt copied.');
    } catch (err) {
      notifications.push('error', `Could not copy the prompt: ${errorMessage(err)}`);
    }
  }

  destroy(): void {
    this.#stop();
  }
}

/** The settings line under an image: sampler, steps, guidance, seed, size, model. */
export function settingsLine(g: GenerationRecord): string {
  const c = g.composition;
  if (!c) return g.modelLabel ?? '';
  return [`${c.sampler} ${c.steps} steps`, `guidance ${c.guidance}`, `seed ${c.seed}`, c.width && c.height ? `${c.width}×${c.height}` : null, g.modelLabel]
    .filter(Boolean)
    .join(' · ');
}
