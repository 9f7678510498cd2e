// The Gallery: generated images found (search, board, favourites) and ordered as the person asks (the same
// query as `singleinsert gallery list`), one open with its settings and provenance, two side by side, boards.
import type { GallerySort, GenerationRecord } from '../../../../src-preload/contract/index.js';
import { boardName, queryGallery } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, onEvent } from '../api.js';
import { notifications } from './notifications.svelte.js';

export class GalleryState {
  #items = $state.raw<GenerationRecord[]>([]);
  #conceptNames = $state.raw<Record<string, string>>({});
  #loading = $state(true);
  #openId = $state<string | null>(null);
  #compareIds = $state<string[]>([]);
  favoritesOnly = $state(false);
  search = $state('');
  board = $state<string | null>(null);
  sort = $state<GallerySort>('newest');
  pendingDelete = $state.raw<GenerationRecord | null>(null);
  #stop: () => void;

  readonly shown = $derived(
    queryGallery(this.#items, { search: this.search, board: this.board, favoritesOnly: this.favoritesOnly, sort: this.sort }, this.#conceptNames),
  );
  /** Every board in use, by name. */
  readonly boards = $derived([...new Set(this.#items.flatMap((g) => g.boards))].sort());
  readonly filtered = $derived(this.search.trim() !== '' || this.board !== null || this.favoritesOnly);
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

  /** The image before or after the open one, in the order shown (the viewer's arrow keys). */
  step(by: -1 | 1): void {
    const i = this.shown.findIndex((g) => g.id === this.#openId);
    const next = this.shown[i + by];
    if (i >= 0 && next) this.#openId = next.id;
  }

  clearFilters(): void {
    this.search = '';
    this.board = null;
    this.favoritesOnly = false;
  }

  /** Puts the image on a board (a new name makes one); false, with the reason said, when the name will not do. */
  async addToBoard(item: GenerationRecord, name: string): Promise<boolean> {
    const checked = boardName.safeParse(name);
    if (!checked.success) {
      notifications.push('error', `That board name will not do: ${checked.error.issues[0]!.message}.`);
      return false;
    }
    return this.#setBoards(item, [...item.boards, checked.data]);
  }

  async removeFromBoard(item: GenerationRecord, name: string): Promise<void> {
    await this.#setBoards(
      item,
      item.boards.filter((b) => b !== name),
    );
  }

  async #setBoards(item: GenerationRecord, boards: string[]): Promise<boolean> {
    try {
      const updated = await api.generations.setBoards({ id: item.id, boards });
      this.#items = this.#items.map((g) => (g.id === updated.id ? updated : g));
      return true;
    } catch (err) {
      notifications.push('error', errorMessage(err));
      return false;
    }
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
