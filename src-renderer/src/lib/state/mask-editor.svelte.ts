import type { ImageRecord, MaskRecord } from '../../../../src-preload/contract/index.js';
import { api, errorMessage, fileUrl } from '../api.js';
import { coverage, feather, fillHoles, grow, removeSmallIslands, shrink, strokeSegment } from '../mask/geometry.js';
import type { Box, SamPoint } from '../../../../src-preload/contract/masks.js';
import { maskFromBase64Png, maskFromUrl, maskToBase64Png } from '../mask/png.js';
import { History } from './mask-history.js';
import { notifications } from './notifications.svelte.js';

export type ToolId = 'point' | 'box' | 'brush' | 'eraser';

interface Snapshot {
  mask: Uint8Array;
  points: SamPoint[];
  box: Box | null;
  source: MaskRecord['source'];
}

/**
 * The mask being reviewed for one photo: the mask itself (a byte per pixel), SAM's prompt,
 * undo/redo across every tool, the view settings, and the calls to the main side.
 */
export class MaskEditor {
  image = $state.raw<ImageRecord | null>(null);
  /** Replaced (not mutated) after each action, so views update; strokes mutate it in place and call onDirty. */
  mask = $state.raw<Uint8Array | null>(null);
  points = $state.raw<SamPoint[]>([]);
  box = $state.raw<Box | null>(null);
  source = $state<MaskRecord['source']>('sam');
  tool = $state<ToolId>('point');
  brushSize = $state(32);
  hardness = $state(0.8);
  amount = $state(4);
  overlayColor = $state('#ff3b6b');
  opacity = $state(0.5);
  showCutout = $state(false);
  classWord = $state('');
  busy = $state<string | null>(null);
  ready = $state(false);
  detector = $state<{ installed: boolean; hint: string }>({ installed: false, hint: '' });
  versions = $state.raw<MaskRecord[]>([]);
  canUndo = $state(false);
  canRedo = $state(false);
  coverage = $derived(this.mask ? coverage(this.mask) : 0);

  private readonly history = new History<Snapshot>();
  private dirtyListeners = new Set<(rect: Box | null) => void>();

  get size() {
    return { width: this.image?.width ?? 0, height: this.image?.height ?? 0 };
  }

  /** Views redraw the rectangle (or everything, for null) when a stroke changes the mask in place. */
  onDirty(listener: (rect: Box | null) => void): () => void {
    this.dirtyListeners.add(listener);
    return () => this.dirtyListeners.delete(listener);
  }

  async open(image: ImageRecord): Promise<void> {
    this.image = image;
    this.mask = new Uint8Array(image.width * image.height);
    this.points = [];
    this.box = null;
    this.history.clear();
    this.syncHistory();
    this.ready = false;
    // the user may pick another photo while this one loads: only the current one may change the state
    const current = () => this.image?.id === image.id;
    await this.run('Loading masks…', async () => {
      const versions = await api.masks.list({ imageId: image.id });
      const latest = versions[0];
      const saved = latest ? (await maskFromUrl(fileUrl(latest.sha256))).mask : null;
      const detector = await api.masks.detectorStatus({});
      if (!current()) return;
      this.versions = versions;
      this.detector = detector;
      if (latest && saved) {
        this.classWord = latest.classWord;
        this.mask = saved;
        this.source = latest.source;
      }
    });
    await this.run('Preparing the photo for clicks (a few seconds the first time)…', async () => {
      await api.masks.prepare({ imageId: image.id });
      if (current()) this.ready = true;
    });
  }

  // 1. SAM prompts

  async addPoint(point: SamPoint): Promise<void> {
    if (!this.inside(point.x, point.y)) return notifications.push('error', 'That point is outside the photo.');
    await this.segment([...this.points, point], this.box);
  }

  async setBox(box: Box): Promise<void> {
    const b = { x0: Math.max(0, Math.min(box.x0, box.x1)), y0: Math.max(0, Math.min(box.y0, box.y1)), x1: Math.min(this.size.width, Math.max(box.x0, box.x1)), y1: Math.min(this.size.height, Math.max(box.y0, box.y1)) };
    if (b.x1 - b.x0 < 4 || b.y1 - b.y0 < 4) return notifications.push('info', 'Drag a larger box around the subject.');
    await this.segment([], b);
  }

  async detect(): Promise<void> {
    const image = this.image;
    if (!image || !this.classWord.trim()) return notifications.push('info', 'Type what the concept is (face, hair, dog…) first.');
    await this.run(`Looking for "${this.classWord}"…`, async () => {
      const found = await api.masks.detect({ imageId: image.id, classWord: this.classWord });
      this.record();
      this.box = found.box;
      this.points = [];
      this.mask = (await maskFromBase64Png(found.mask.maskPng)).mask;
      this.source = 'auto';
      notifications.push('success', `Found ${found.label} (score ${found.score.toFixed(2)}).`);
    });
  }

  private async segment(points: SamPoint[], box: Box | null): Promise<void> {
    const image = this.image;
    // one prompt at a time: a click while SAM runs would race the answer before it
    if (!image || this.busy) return;
    await this.run('Segmenting…', async () => {
      const result = await api.masks.segment({ imageId: image.id, points, box, refine: points.length > 1 && !box });
      if (this.image?.id !== image.id) return;
      this.record();
      this.points = points;
      this.box = box;
      this.mask = (await maskFromBase64Png(result.maskPng)).mask;
      this.source = 'sam';
    });
  }

  // 2. Painting: beginStroke records one undo step; the stroke then edits the mask in place.

  beginStroke(): void {
    this.record();
    this.source = 'manual';
  }

  strokeTo(from: [number, number], to: [number, number]): void {
    if (!this.mask) return;
    const rect = strokeSegment(this.mask, this.size, from, to, this.brushSize / 2, this.hardness, this.tool === 'eraser');
    for (const l of this.dirtyListeners) l(rect);
  }

  endStroke(): void {
    if (this.mask) this.mask = Uint8Array.from(this.mask);
  }

  // 3. Whole-mask operations

  apply(operation: 'fill-holes' | 'remove-islands' | 'grow' | 'shrink' | 'feather'): void {
    const mask = this.mask;
    if (!mask) return;
    this.record();
    const size = this.size;
    const n = Math.max(1, Math.round(this.amount));
    const minIsland = Math.round(size.width * size.height * 0.002);
    this.mask = {
      'fill-holes': () => fillHoles(mask, size),
      'remove-islands': () => removeSmallIslands(mask, size, minIsland),
      grow: () => grow(mask, size, n),
      shrink: () => shrink(mask, size, n),
      feather: () => feather(mask, size, n),
    }[operation]();
    this.source = 'manual';
  }

  clear(): void {
    this.record();
    this.mask = new Uint8Array(this.size.width * this.size.height);
    this.points = [];
    this.box = null;
  }

  // 4. History

  undo(): void {
    const previous = this.history.undo(this.snapshot());
    if (previous) this.restore(previous);
    this.syncHistory();
  }

  redo(): void {
    const next = this.history.redo(this.snapshot());
    if (next) this.restore(next);
    this.syncHistory();
  }

  // 5. Saving and versions

  async save(): Promise<void> {
    const image = this.image;
    const mask = this.mask;
    if (!image || !mask) return;
    if (!this.classWord.trim()) return notifications.push('error', 'Name the concept\u2019s class (face, hair, dog…) before saving.');
    await this.run('Saving…', async () => {
      const saved = await api.masks.save({ imageId: image.id, classWord: this.classWord, maskPng: await maskToBase64Png(mask, image.width, image.height), source: this.source });
      this.versions = await api.masks.list({ imageId: image.id });
      notifications.push('success', `Saved ${saved.classWord} mask, version ${saved.version}.`);
    });
  }

  async loadVersion(version: MaskRecord): Promise<void> {
    await this.run('Loading…', async () => {
      const { mask } = await maskFromUrl(fileUrl(version.sha256));
      this.record();
      this.mask = mask;
      this.classWord = version.classWord;
      this.source = version.source;
      this.points = [];
      this.box = null;
    });
  }

  private inside(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.size.width && y < this.size.height;
  }

  private snapshot(): Snapshot {
    return { mask: Uint8Array.from(this.mask ?? []), points: this.points, box: this.box, source: this.source };
  }

  private record(): void {
    this.history.record(this.snapshot());
    this.syncHistory();
  }

  private restore(s: Snapshot): void {
    this.mask = s.mask;
    this.points = s.points;
    this.box = s.box;
    this.source = s.source;
  }

  private syncHistory(): void {
    this.canUndo = this.history.canUndo;
    this.canRedo = this.history.canRedo;
  }

  private async run(label: string, work: () => Promise<void>): Promise<void> {
    this.busy = label;
    try {
      await work();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.busy = null;
    }
  }
}
