import { join } from 'node:path';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import type { MaskRecord } from '../../../src-preload/contract/index.js';
import { type Detection, GroundingDino } from './grounding-dino.js';
import { chooseDevice } from '../../system/device-choice.js';
import { type ImageEmbedding, maskFromPng, maskToPng, SamEngine } from './sam-engine.js';
import type { Box, SamPoint } from '../../../src-preload/contract/masks.js';

export interface MaskResult {
  png: Buffer;
  width: number;
  height: number;
  score: number;
  /** Fraction of the image the mask covers. */
  coverage: number;
}

export const NO_DETECTOR_HINT =
  'No GroundingDINO detector is installed, so masks cannot be found from the class word. Click on the subject to segment it instead, or add the transformers.js GroundingDINO ONNX folder in Settings › Models (or `singleinsert models add <folder>`).';

/**
 * Masks for library images: SAM clicks and boxes (refining the previous mask of the same image),
 * GroundingDINO + SAM from a class word, and versioned saving.
 */
export class MaskService {
  private sam: Promise<SamEngine> | null = null;
  private readonly previous = new Map<string, Float32Array>();

  constructor(private readonly library: Library) {}

  private engine(): Promise<SamEngine> {
    // SAM runs where `auto` says: a real GPU when one is usable, else the CPU
    this.sam ??= chooseDevice('auto', this.library.preferences.get().provider)
      .then((device) => SamEngine.load({ cacheDir: join(this.library.dataDir, 'cache', 'sam'), provider: device.provider }))
      .catch((err: unknown) => {
        this.sam = null;
        throw err;
      });
    return this.sam;
  }

  /** The image embedding (computed once per image, then cached). */
  async prepare(imageId: string): Promise<ImageEmbedding> {
    const image = this.library.images.get(imageId);
    return (await this.engine()).embed(await this.library.store.read(image.sha256));
  }

  async segment(imageId: string, prompt: { points: readonly SamPoint[]; box: Box | null; refine: boolean }): Promise<MaskResult> {
    const embedding = await this.prepare(imageId);
    const result = await (
      await this.engine()
    ).segment(embedding, { points: prompt.points, box: prompt.box, previous: prompt.refine ? (this.previous.get(imageId) ?? null) : null });
    this.previous.set(imageId, result.lowRes);
    return this.toResult(result.mask, result.width, result.height, result.score);
  }

  detectorFolder(): { path: string; name: string } | null {
    const model = this.library.models.list().find((m) => m.family === 'grounding-dino');
    return model ? { path: model.path, name: model.name } : null;
  }

  /** Class word → best GroundingDINO box → SAM mask of that box. */
  async detect(imageId: string, classWord: string): Promise<{ detection: Detection; mask: MaskResult }> {
    const folder = this.detectorFolder();
    if (!folder) throw new AppError('unavailable', NO_DETECTOR_HINT);
    const image = this.library.images.get(imageId);
    const bytes = await this.library.store.read(image.sha256);
    const detections = await (await GroundingDino.load(folder.path)).detect(bytes, classWord);
    const best = detections[0];
    if (!best) {
      throw new AppError(
        'not-found',
        `No "${classWord}" was found in this photo (box threshold 0.3, text threshold 0.25). Try another word, or click on the subject.`,
      );
    }
    this.previous.delete(imageId);
    return { detection: best, mask: await this.segment(imageId, { points: [], box: best.box, refine: false }) };
  }

  async save(imageId: string, classWord: string, png: Buffer, source: MaskRecord['source']): Promise<MaskRecord> {
    const image = this.library.images.get(imageId);
    const { mask, width, height } = await maskFromPng(png, image);
    if (!mask.some((v) => v > 0)) throw new AppError('invalid-input', 'The mask is empty: mark the subject before saving. The previous version is kept.');
    return this.library.masks.save({ imageId, classWord, png: await maskToPng(mask, width, height), source });
  }

  private async toResult(mask: Uint8Array, width: number, height: number, score: number): Promise<MaskResult> {
    let on = 0;
    for (const v of mask) if (v) on++;
    return { png: await maskToPng(mask, width, height), width, height, score, coverage: on / mask.length };
  }
}
