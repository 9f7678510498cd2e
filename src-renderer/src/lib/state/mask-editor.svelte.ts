// The mask studio for one photo: the mask being edited (MaskDocument), how it is shown (MaskView), and the
// calls to the main side that change or keep it (SAM, the detector, saving and versions).
import type { ImageRecord, MaskRecord } from '../../../../src-preload/contract/index.js';
import type { Box, SamPoint } from '../../../../src-preload/contract/masks.js';
import { z } from 'zod';
import { api, errorMessage, fileUrl } from '../api.js';
import { clearDraft, readDraft, writeDraft } from '../drafts.js';
import { maskFromBase64Png, maskFromUrl, maskToBase64Png } from '../mask/png.js';
import { MaskDocument, type MaskOperation } from './mask-document.svelte.js';
import { MaskView } from './mask-view.svelte.js';
import { notifications } from './notifications.svelte.js';

export type { ToolId } from './mask-view.svelte.js';

/** An unsaved mask as its photo's draft keeps it: the mask as a PNG, its class word, and the version it was made over. */
const maskDraft = z.object({
  png: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  classWord: z.string(),
  source: z.enum(['sam', 'auto', 'manual']),
  baseVersion: z.string().nullable(),
});
const draftKey = (imageId: string) => `mask.${imageId}`;
/** How long the editor waits after a change before keeping the draft (a stroke's many changes make one write). */
const DRAFT_DELAY_MS = 300;

export class MaskEditor {
  readonly doc = new MaskDocument();
  readonly view = new MaskView();
  /** What the concept is (face, hair, dog…): the detector looks for it, and the mask is saved under it. */
  classWord = $state('');
  #busy = $state<string | null>(null);
  #ready = $state(false);
  /** The photo whose saved mask (and draft) have been read: until then the canvas may show the previous one's state. */
  #loadedPhotoId = $state<string | null>(null);
  #detector = $state.raw<{ installed: boolean; hint: string }>({ installed: false, hint: '' });
  #versions = $state.raw<MaskRecord[]>([]);
  /** Clicks (and a box) made while SAM was not ready or still answering: shown at once, sent when it can take them. */
  #queued = $state.raw<{ points: SamPoint[]; box: Box | null }>({ points: [], box: null });
  /** The document's revision that matches what the library keeps (the photo's latest version, or nothing). */
  #cleanRevision = $state(0);
  /** When the unsaved mask was last kept as a draft, and whether only this page holds it. */
  #draft = $state.raw<{ keptAt: string; onlyThisPage: boolean } | null>(null);
  #draftTimer: ReturnType<typeof setTimeout> | null = null;
  /** Save was asked for without a class word: the field says so (no message over the buttons). */
  #classWordMissing = $state(false);
  /** The version this editor saved last, for the next step ("Train this"). */
  #lastSaved = $state.raw<MaskRecord | null>(null);
  readonly #stopDrafts: () => void;

  /** The mask has changes the library does not have. */
  readonly unsaved = $derived(this.doc.image !== null && this.doc.revision !== this.#cleanRevision);

  constructor() {
    // each change to an unsaved mask is kept as its photo's draft, a moment later
    this.#stopDrafts = $effect.root(() => {
      $effect(() => {
        const image = this.doc.image;
        const mask = this.doc.mask;
        const classWord = this.classWord;
        const source = this.doc.source;
        if (!image || !mask || !this.unsaved) return;
        const baseVersion = this.#versions[0]?.id ?? null;
        if (this.#draftTimer) clearTimeout(this.#draftTimer);
        this.#draftTimer = setTimeout(() => {
          this.#draftTimer = null;
          void maskToBase64Png(mask, image.width, image.height).then((png) => {
            const kept = writeDraft(draftKey(image.id), { png, width: image.width, height: image.height, classWord, source, baseVersion });
            if (this.doc.image?.id === image.id) this.#draft = { keptAt: new Date().toISOString(), onlyThisPage: !kept.persisted };
          });
        }, DRAFT_DELAY_MS);
      });
    });
  }

  get draft(): { keptAt: string; onlyThisPage: boolean } | null {
    return this.#draft;
  }
  /** What is wrong with the class word, in words (null when nothing is). */
  get classWordProblem(): string | null {
    return this.#classWordMissing && !this.classWord.trim()
      ? 'Name the concept\u2019s class (face, hair, dog…) before saving: the mask is kept under it.'
      : null;
  }
  get lastSaved(): MaskRecord | null {
    return this.#lastSaved;
  }

  /** What the editor is doing (a label to show), or null when it waits for the person. */
  get busy(): string | null {
    return this.#busy;
  }
  /** SAM has the photo's embedding: clicks are answered quickly. */
  get ready(): boolean {
    return this.#ready;
  }
  get loadedPhotoId(): string | null {
    return this.#loadedPhotoId;
  }
  get detector(): { installed: boolean; hint: string } {
    return this.#detector;
  }
  get versions(): MaskRecord[] {
    return this.#versions;
  }
  get queued(): { points: SamPoint[]; box: Box | null } {
    return this.#queued;
  }

  async open(image: ImageRecord): Promise<void> {
    this.doc.reset(image);
    this.#cleanRevision = this.doc.revision;
    this.#draft = null;
    this.#classWordMissing = false;
    this.#lastSaved = null;
    this.#ready = false;
    this.#loadedPhotoId = null;
    this.#queued = { points: [], box: null };
    // each photo has its own class word: the saved mask's, or none yet (not the last photo's)
    this.classWord = '';
    // the user may pick another photo while this one loads: only the current one may change the state
    const current = () => this.doc.image?.id === image.id;
    await this.#run('Loading masks…', async () => {
      const versions = await api.masks.list({ imageId: image.id });
      const latest = versions[0];
      const saved = latest ? (await maskFromUrl(fileUrl(latest.sha256))).mask : null;
      const detector = await api.masks.detectorStatus({});
      if (!current()) return;
      this.#versions = versions;
      this.#detector = detector;
      if (latest && saved) {
        this.classWord = latest.classWord;
        this.doc.startFrom({ mask: saved, points: [], box: null, source: latest.source });
      }
      this.#cleanRevision = this.doc.revision;
      await this.#restoreDraft(image, latest ?? null);
      if (current()) this.#loadedPhotoId = image.id;
    });
    await this.#run('Preparing the photo for clicks (a few seconds the first time); clicks made now are answered then…', async () => {
      await api.masks.prepare({ imageId: image.id });
      if (current()) this.#ready = true;
    });
  }

  /** The photo's unsaved mask from before (another screen, a reload) comes back over the saved one: Undo returns to that. */
  async #restoreDraft(image: ImageRecord, latest: MaskRecord | null): Promise<void> {
    const draft = readDraft(draftKey(image.id), maskDraft);
    if (!draft || draft.value.width !== image.width || draft.value.height !== image.height) return;
    const { mask } = await maskFromBase64Png(draft.value.png);
    if (this.doc.image?.id !== image.id) return;
    this.doc.replace({ mask, points: [], box: null, source: draft.value.source });
    this.classWord = draft.value.classWord;
    this.#draft = { keptAt: draft.savedAt, onlyThisPage: false };
    const newer = latest && latest.id !== draft.value.baseVersion ? ` A newer version (v${latest.version}) was saved since; Undo shows it.` : '';
    notifications.push('info', `Your unsaved mask of ${image.name} is back, as you left it.${newer}`);
  }

  /** Drops the unsaved changes: the photo's saved mask (or none) again. */
  async discard(): Promise<void> {
    const image = this.doc.image;
    if (!image) return;
    this.#forgetDraft(image.id);
    await this.open(image);
  }

  #forgetDraft(imageId: string): void {
    if (this.#draftTimer) clearTimeout(this.#draftTimer);
    this.#draftTimer = null;
    clearDraft(draftKey(imageId));
    this.#draft = null;
  }

  // 1. SAM prompts

  async addPoint(point: SamPoint): Promise<void> {
    if (!this.doc.inside(point.x, point.y)) return notifications.push('error', 'That point is outside the photo.');
    this.#queued = { ...this.#queued, points: [...this.#queued.points, point] };
    await this.#sendQueued();
  }

  async setBox(box: Box): Promise<void> {
    const { width, height } = this.doc.size;
    const b = {
      x0: Math.max(0, Math.min(box.x0, box.x1)),
      y0: Math.max(0, Math.min(box.y0, box.y1)),
      x1: Math.min(width, Math.max(box.x0, box.x1)),
      y1: Math.min(height, Math.max(box.y0, box.y1)),
    };
    if (b.x1 - b.x0 < 4 || b.y1 - b.y0 < 4) return notifications.push('info', 'Drag a larger box around the subject.');
    // a box starts a new prompt: the points before it go
    this.#queued = { points: [], box: b };
    await this.#sendQueued();
  }

  /** Sends what was clicked once SAM can answer: now, or when the work under way ends (see #run). */
  async #sendQueued(): Promise<void> {
    const { points, box } = this.#queued;
    if (!this.#ready || this.#busy || (points.length === 0 && !box)) return;
    this.#queued = { points: [], box: null };
    // a new box starts a new prompt; points add to the one on show
    await this.#segment(box ? points : [...this.doc.points, ...points], box ?? this.doc.box);
  }

  async detect(): Promise<void> {
    const image = this.doc.image;
    if (!image || !this.classWord.trim()) return notifications.push('info', 'Type what the concept is (face, hair, dog…) first.');
    await this.#run(`Looking for "${this.classWord}"…`, async () => {
      const found = await api.masks.detect({ imageId: image.id, classWord: this.classWord });
      this.doc.replace({ mask: (await maskFromBase64Png(found.mask.maskPng)).mask, points: [], box: found.box, source: 'auto' });
      notifications.push('success', `Found ${found.label} (score ${found.score.toFixed(2)}).`);
    });
  }

  async #segment(points: SamPoint[], box: Box | null): Promise<void> {
    const image = this.doc.image;
    if (!image) return;
    await this.#run('Segmenting…', async () => {
      const result = await api.masks.segment({ imageId: image.id, points, box, refine: points.length > 1 && !box });
      if (this.doc.image?.id !== image.id) return;
      this.doc.replace({ mask: (await maskFromBase64Png(result.maskPng)).mask, points, box, source: 'sam' });
    });
  }

  // 2. Painting, with the view's brush

  strokeTo(from: [number, number], to: [number, number]): void {
    this.doc.strokeTo(from, to, { diameter: this.view.brushSize, hardness: this.view.hardness, erase: this.view.tool === 'eraser' });
  }

  /** A whole-mask operation by the view's amount (pixels). */
  apply(operation: MaskOperation): void {
    this.doc.apply(operation, this.view.amount);
  }

  // 3. Saving and versions

  /** Saves the mask as a new version; true when it was saved. */
  async save(): Promise<boolean> {
    const image = this.doc.image;
    const mask = this.doc.mask;
    if (!image || !mask) return false;
    if (!this.classWord.trim()) {
      this.#classWordMissing = true;
      return false;
    }
    const revision = this.doc.revision;
    let saved: MaskRecord | null = null;
    await this.#run('Saving…', async () => {
      saved = await api.masks.save({
        imageId: image.id,
        classWord: this.classWord,
        maskPng: await maskToBase64Png(mask, image.width, image.height),
        source: this.doc.source,
      });
      this.#versions = await api.masks.list({ imageId: image.id });
      // changes made while it saved stay unsaved (and in the draft)
      if (this.doc.revision === revision) this.#forgetDraft(image.id);
      this.#cleanRevision = revision;
      this.#lastSaved = saved;
    });
    return saved !== null;
  }

  async loadVersion(version: MaskRecord): Promise<void> {
    await this.#run('Loading…', async () => {
      const { mask } = await maskFromUrl(fileUrl(version.sha256));
      this.doc.replace({ mask, points: [], box: null, source: version.source });
      this.classWord = version.classWord;
    });
  }

  destroy(): void {
    this.#stopDrafts();
  }

  async #run(label: string, work: () => Promise<void>): Promise<void> {
    this.#busy = label;
    try {
      await work();
    } catch (err) {
      notifications.push('error', errorMessage(err));
    } finally {
      this.#busy = null;
    }
    // clicks made meanwhile (while SAM prepared, answered, or the mask was saved) go now
    await this.#sendQueued();
  }
}
