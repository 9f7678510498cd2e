// img2img's start: a library photo or a Gallery image, cropped to fill the drawing's size, encoded by the VAE (its
// posterior's mean, so a start image always gives the same latents), and for inpainting its mask in latents (the
// area each latent covers, so the edge is soft) and in pixels, feathered for the blend back into the original.
import sharp from 'sharp';
import { type Composition, startImageSize } from '../../../src-preload/contract/compose.js';
import { AppError } from '../../common/app-error.js';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import type { Library } from '../../library/library.js';
import { weightsFrom } from '../../models/params.js';
import { vaeEncode } from '../../models/vae.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import { maskFromPng } from '../mask/sam-engine.js';
import type { SessionLoader } from './sessions.js';

export interface StartImage {
  width: number;
  height: number;
  /** The VAE's latents [channels, h, w] of the cropped image. */
  latents: Float32Array;
  /** The cropped image [3, H, W] in [−1, 1]. */
  pixels: Float32Array;
  inpaint: { latentMask: Float32Array; pixelMask: Float32Array } | null;
}

type Start = NonNullable<Composition['start']>;

/** The start image's bytes: a library photo (img_…) or a generated image (gen_…). */
async function startBytes(library: Library, id: string): Promise<Buffer> {
  const sha = id.startsWith('img_') ? library.images.get(id).sha256 : library.generations.get(id).sha256;
  return library.store.read(sha);
}

export async function prepareStart(
  library: Library,
  model: StableDiffusionModel,
  start: Start,
  size: { base: number; multiple: number; factor: number; width?: number | undefined; height?: number | undefined },
  load: SessionLoader,
  dtype: FloatDType,
): Promise<StartImage> {
  const bytes = await startBytes(library, start.imageId);
  const meta = await sharp(bytes).metadata();
  const { width, height } = startImageSize({ width: meta.width!, height: meta.height! }, size.base, size.multiple, size);
  const rgb = await sharp(bytes).removeAlpha().resize(width, height, { fit: 'cover', position: 'centre' }).raw().toBuffer();
  const plane = width * height;
  const pixels = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) pixels[c * plane + i] = (rgb[i * 3 + c]! / 255) * 2 - 1;
  // 1. the latents, through the VAE's encoder
  const g = new Graph('vae_encoder');
  const image = g.input('image', 'float32', [1, 3, height, width]);
  g.output(op.cast(vaeEncode(weightsFrom(g, model.vae.source, { dtype, prefix: 'vae.' }), model.vae.config, op.cast(image, dtype)), 'float32'), 'latents');
  const session = await load(g);
  let latents: Float32Array;
  try {
    latents = Float32Array.from((await session.run({ image: { dtype: 'float32', shape: [1, 3, height, width], data: pixels } })).latents!.data as Float32Array);
  } finally {
    await session.release();
  }
  // 2. inpainting's masks: painted on the canvas (the drawing's shape), or the photo's saved one (cropped as the photo)
  const alpha = start.inpaint ? await paintedAlpha(start.inpaint, width, height) : start.mask ? await savedMaskAlpha(library, start, width, height) : null;
  if (alpha && start.invert) for (let i = 0; i < alpha.length; i++) alpha[i] = 255 - alpha[i]!;
  const inpaint = alpha ? inpaintMasks(alpha, width, height, size.factor, start.feather) : null;
  return { width, height, latents, pixels, inpaint };
}

async function paintedAlpha(dataUrl: string, width: number, height: number): Promise<Buffer> {
  try {
    const png = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    return await sharp(png).ensureAlpha().resize(width, height, { fit: 'fill' }).extractChannel(3).raw().toBuffer();
  } catch (err) {
    throw new AppError('invalid-input', `The inpainting mask could not be read as an image (${(err as Error).message}); draw it again.`);
  }
}

async function savedMaskAlpha(library: Library, start: Start, width: number, height: number): Promise<Buffer> {
  const record = library.masks.get(start.mask!);
  if (record.imageId !== start.imageId)
    throw new AppError(
      'invalid-input',
      `Mask ${record.id} (${record.classWord} v${record.version}) belongs to another photo than the start image; choose one of its own.`,
    );
  const saved = await maskFromPng(await library.store.read(record.sha256));
  return sharp(Buffer.from(saved.mask), { raw: { width: saved.width, height: saved.height, channels: 1 } })
    .resize(width, height, { fit: 'cover', position: 'centre' })
    .extractChannel(0) // one value a pixel, whatever colourspace the resize works in
    .raw()
    .toBuffer();
}

function inpaintMasks(alpha: Buffer, width: number, height: number, factor: number, feather: number) {
  if (!alpha.some((v) => v > 0)) throw new AppError('invalid-input', 'The inpainting mask is empty: paint where the picture should change.');
  if (alpha.every((v) => v === 255))
    throw new AppError('invalid-input', 'The inpainting mask covers the whole picture: redraw all of it instead, or keep a part.');
  const [h, w] = [height / factor, width / factor];
  const latentMask = new Float32Array(h * w);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) latentMask[Math.floor(y / factor) * w + Math.floor(x / factor)]! += alpha[y * width + x]! / 255;
  for (let i = 0; i < latentMask.length; i++) latentMask[i]! /= factor * factor;
  const pixelMask = feathered(
    Float32Array.from(alpha, (v) => v / 255),
    width,
    height,
    Math.round(feather / 2),
  );
  return { latentMask, pixelMask };
}

/**
 * The mask's edge softened over `feather` pixels: a box mean of radius r across, then down. It reaches exactly r
 * pixels beyond the painted edge, so everything farther out is the start image to the byte.
 */
function feathered(mask: Float32Array, width: number, height: number, r: number): Float32Array {
  if (r === 0) return mask;
  const pass = (src: Float32Array, along: 'x' | 'y') => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let d = -r; d <= r; d++) {
          const [xx, yy] = along === 'x' ? [Math.min(width - 1, Math.max(0, x + d)), y] : [x, Math.min(height - 1, Math.max(0, y + d))];
          sum += src[yy * width + xx]!;
        }
        out[y * width + x] = sum / (2 * r + 1);
      }
    return out;
  };
  return pass(pass(mask, 'x'), 'y');
}
