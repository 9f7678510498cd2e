// Where each concept goes: boxes or painted masks in output pixels → the masks the UNet's regional
// attention reads at each of its resolutions, and the prompt tokens each concept owns.
import { AppError } from '../../common/app-error.js';
import { REGION_TOKENS_INPUT, regionMaskInput } from '../../models/regional.js';
import type { HostTensor } from '../../graph/runtime/session.js';
import { TOKENS } from './prompt.js';

export interface ConceptRegion {
  placeholder: string;
  /** [x0, y0, x1, y1] in output pixels. */
  box?: readonly [number, number, number, number];
  /** Or a painted mask of the output's size, row-major, > 127 inside. */
  mask?: { width: number; height: number; data: Uint8Array };
}

/** A region as coverage of each latent cell (0…1): what share of the cell's pixels it holds. */
export function latentCoverage(region: ConceptRegion, width: number, height: number, factor: number): Float32Array {
  const [h, w] = [height / factor, width / factor];
  const cover = new Float32Array(h * w);
  if (region.box) {
    const [x0, y0, x1, y1] = region.box;
    if (!(x1 > x0 && y1 > y0))
      throw new AppError('invalid-input', `The region of ${region.placeholder} is empty (${region.box.join(', ')}); give it a width and a height.`);
    if (x1 <= 0 || y1 <= 0 || x0 >= width || y0 >= height) {
      throw new AppError('invalid-input', `The region of ${region.placeholder} (${region.box.join(', ')}) lies outside the ${width}×${height} canvas.`);
    }
    for (let cy = 0; cy < h; cy++) {
      const oy = Math.max(0, Math.min((cy + 1) * factor, y1) - Math.max(cy * factor, y0));
      for (let cx = 0; cx < w; cx++) {
        const ox = Math.max(0, Math.min((cx + 1) * factor, x1) - Math.max(cx * factor, x0));
        cover[cy * w + cx] = (ox * oy) / (factor * factor);
      }
    }
  } else if (region.mask) {
    const m = region.mask;
    if (m.width !== width || m.height !== height)
      throw new AppError('invalid-input', `The painted region of ${region.placeholder} is ${m.width}×${m.height}; the canvas is ${width}×${height}.`);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) if (m.data[y * width + x]! > 127) cover[Math.floor(y / factor) * w + Math.floor(x / factor)]! += 1 / (factor * factor);
  } else {
    throw new AppError('invalid-input', `The region of ${region.placeholder} needs a box or a painted mask.`);
  }
  if (!cover.some((c) => c > 0)) throw new AppError('invalid-input', `The region of ${region.placeholder} holds no pixel of the canvas.`);
  return cover;
}

/**
 * Cells at a coarser grid (side / 2^level): on where the region covers at least half, and never
 * none — a small region keeps its best-covered cells, so a concept is never lost at low resolution.
 */
export function levelMask(cover: Float32Array, h: number, w: number, level: number): Float32Array {
  const s = 2 ** level;
  const [lh, lw] = [Math.ceil(h / s), Math.ceil(w / s)];
  const share = new Float32Array(lh * lw);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) share[Math.floor(y / s) * lw + Math.floor(x / s)]! += cover[y * w + x]! / (s * s);
  const best = Math.max(...share);
  return share.map((v) => (v >= 0.5 || (best < 0.5 && v === best) ? 1 : 0));
}

/** How two regions mix where they overlap, as a person reads it (null when they do not). */
export function overlapNote(a: string, ca: Float32Array, b: string, cb: Float32Array): string | null {
  let both = 0;
  for (let i = 0; i < ca.length; i++) both += Math.min(ca[i]!, cb[i]!);
  if (both === 0) return null;
  const share = Math.round((100 * both) / ca.length);
  return `The regions of ${a} and ${b} overlap (${share || '<1'} % of the image): there both act — both tokens are attended and both LoRAs add.`;
}

/**
 * The UNet's regional inputs for a guidance batch of `batch` rows (the unconditional half first):
 * a [1, N, C] mask per level, and which prompt tokens each concept owns ([batch, C, 77], prompt rows only).
 */
export function regionFeeds(
  covers: readonly Float32Array[],
  owned: readonly number[][],
  h: number,
  w: number,
  levels: number,
  batch: number,
  /** The batch's first half is the unconditional prompt (classifier-free guidance); without guidance every row is the prompt. */
  guided = true,
): Record<string, HostTensor> {
  const c = covers.length;
  const feeds: Record<string, HostTensor> = {};
  for (let level = 0; level < levels; level++) {
    const masks = covers.map((cover) => levelMask(cover, h, w, level));
    const n = masks[0]!.length;
    const data = new Float32Array(n * c);
    masks.forEach((m, j) => m.forEach((v, i) => (data[i * c + j] = v)));
    feeds[regionMaskInput(n)] = { dtype: 'float32', shape: [1, n, c], data };
  }
  const tokens = new Float32Array(batch * c * TOKENS);
  for (let row = guided ? batch / 2 : 0; row < batch; row++)
    owned.forEach((positions, j) => positions.forEach((p) => (tokens[(row * c + j) * TOKENS + p] = 1)));
  feeds[REGION_TOKENS_INPUT] = { dtype: 'float32', shape: [batch, c, TOKENS], data: tokens };
  return feeds;
}
