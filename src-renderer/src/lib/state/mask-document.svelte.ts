// The mask of one photo as it is being edited: a byte per pixel, SAM's prompt that made it, where it came
// from, and undo/redo across every change. No calls to the main side here (MaskEditor makes them).
import type { ImageRecord, MaskRecord } from '../../../../src-preload/contract/index.js';
import type { Box, SamPoint } from '../../../../src-preload/contract/masks.js';
import { coverage, feather, fillHoles, grow, removeSmallIslands, shrink, strokeSegment } from '../mask/geometry.js';
import { History } from './mask-history.js';

export type MaskOperation = 'fill-holes' | 'remove-islands' | 'grow' | 'shrink' | 'feather';

/** A whole new state of the mask (a SAM answer, a detection, a saved version): one undo step. */
export interface MaskState {
  mask: Uint8Array;
  points: SamPoint[];
  box: Box | null;
  source: MaskRecord['source'];
}

export class MaskDocument {
  #image = $state.raw<ImageRecord | null>(null);
  /** Replaced (not mutated) after each action, so views update; strokes mutate it in place and tell onDirty. */
  #mask = $state.raw<Uint8Array | null>(null);
  #points = $state.raw<SamPoint[]>([]);
  #box = $state.raw<Box | null>(null);
  #source = $state<MaskRecord['source']>('sam');
  #canUndo = $state(false);
  #canRedo = $state(false);
  /** Counts the person's changes (each action, stroke, undo and redo): the editor compares it with the one saved. */
  #revision = $state(0);
  readonly coverage = $derived(this.#mask ? coverage(this.#mask) : 0);
  readonly #history = new History<MaskState>();
  readonly #dirtyListeners = new Set<(rect: Box | null) => void>();

  get image(): ImageRecord | null {
    return this.#image;
  }
  get mask(): Uint8Array | null {
    return this.#mask;
  }
  get points(): SamPoint[] {
    return this.#points;
  }
  get box(): Box | null {
    return this.#box;
  }
  get source(): MaskRecord['source'] {
    return this.#source;
  }
  get canUndo(): boolean {
    return this.#canUndo;
  }
  get canRedo(): boolean {
    return this.#canRedo;
  }
  get revision(): number {
    return this.#revision;
  }
  get size() {
    return { width: this.#image?.width ?? 0, height: this.#image?.height ?? 0 };
  }

  /** Starts over on a photo: an empty mask, no prompt, no history. */
  reset(image: ImageRecord): void {
    this.#image = image;
    this.#mask = new Uint8Array(image.width * image.height);
    this.#points = [];
    this.#box = null;
    this.#history.clear();
    this.#syncHistory();
  }

  /** The photo's saved mask as the starting point (no undo step: nothing came before it). */
  startFrom(state: MaskState): void {
    this.#restore(state);
  }

  inside(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.size.width && y < this.size.height;
  }

  /** Views redraw the rectangle (or everything, for null) when a stroke changes the mask in place. */
  onDirty(listener: (rect: Box | null) => void): () => void {
    this.#dirtyListeners.add(listener);
    return () => this.#dirtyListeners.delete(listener);
  }

  replace(state: MaskState): void {
    this.#record();
    this.#restore(state);
    this.#revision++;
  }

  // Painting: beginStroke records one undo step; the stroke then edits the mask in place.

  beginStroke(): void {
    this.#record();
    this.#source = 'manual';
  }

  strokeTo(from: [number, number], to: [number, number], brush: { diameter: number; hardness: number; erase: boolean }): void {
    if (!this.#mask) return;
    const rect = strokeSegment(this.#mask, this.size, from, to, brush.diameter / 2, brush.hardness, brush.erase);
    for (const l of this.#dirtyListeners) l(rect);
  }

  endStroke(): void {
    if (this.#mask) this.#mask = Uint8Array.from(this.#mask);
    this.#revision++;
  }

  apply(operation: MaskOperation, amount: number): void {
    const mask = this.#mask;
    if (!mask) return;
    this.#record();
    const size = this.size;
    const n = Math.max(1, Math.round(amount));
    const minIsland = Math.round(size.width * size.height * 0.002);
    this.#mask = {
      'fill-holes': () => fillHoles(mask, size),
      'remove-islands': () => removeSmallIslands(mask, size, minIsland),
      grow: () => grow(mask, size, n),
      shrink: () => shrink(mask, size, n),
      feather: () => feather(mask, size, n),
    }[operation]();
    this.#source = 'manual';
    this.#revision++;
  }

  clear(): void {
    this.replace({ mask: new Uint8Array(this.size.width * this.size.height), points: [], box: null, source: this.#source });
  }

  undo(): void {
    const previous = this.#history.undo(this.#snapshot());
    if (previous) {
      this.#restore(previous);
      this.#revision++;
    }
    this.#syncHistory();
  }

  redo(): void {
    const next = this.#history.redo(this.#snapshot());
    if (next) {
      this.#restore(next);
      this.#revision++;
    }
    this.#syncHistory();
  }

  #snapshot(): MaskState {
    return { mask: Uint8Array.from(this.#mask ?? []), points: this.#points, box: this.#box, source: this.#source };
  }

  #record(): void {
    this.#history.record(this.#snapshot());
    this.#syncHistory();
  }

  #restore(s: MaskState): void {
    this.#mask = s.mask;
    this.#points = s.points;
    this.#box = s.box;
    this.#source = s.source;
  }

  #syncHistory(): void {
    this.#canUndo = this.#history.canUndo;
    this.#canRedo = this.#history.canRedo;
  }
}
