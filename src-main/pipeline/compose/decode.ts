// Final latents → PNG images through the VAE decoder, each with its settings written inside.
import sharp from 'sharp';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import { weightsFrom } from '../../models/params.js';
import { taesdDecode } from '../../models/taesd.js';
import { vaeDecode } from '../../models/vae.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import type { TaesdModel } from '../../weights/taesd-files.js';
import { withPngText } from '../sample/png-metadata.js';
import type { SessionLoader } from './sessions.js';

/** The graph that turns one image's latents [1, channels, h, w] into pixels in [−1, 1]: SD's VAE, or TAESD when given. */
export function decoderGraph(model: StableDiffusionModel, channels: number, h: number, w: number, dtype: FloatDType, taesd?: TaesdModel): Graph {
  const g = new Graph(taesd ? 'taesd_decoder' : 'vae_decoder');
  const lat = op.cast(g.input('latents', 'float32', [1, channels, h, w]), dtype);
  const image = taesd
    ? taesdDecode(weightsFrom(g, taesd.weights, { dtype }), taesd.config, lat)
    : vaeDecode(weightsFrom(g, model.vae.source, { dtype, prefix: 'vae.' }), model.vae.config, lat);
  g.output(op.cast(image, 'float32'), 'image');
  return g;
}

/** Decodes each image's latents [channels, h, w] to an 8-bit RGB PNG carrying `text(i)` (through TAESD when given). */
export async function decodeImages(
  model: StableDiffusionModel,
  latents: Float32Array,
  shape: { count: number; channels: number; h: number; w: number; width: number; height: number },
  load: SessionLoader,
  dtype: FloatDType,
  text: (i: number) => Record<string, string>,
  taesd?: TaesdModel,
  /** What happens to each decoded image [3, H, W] in [−1, 1] before it is written (inpainting's blend). */
  finish: (chw: Float32Array) => Float32Array = (chw) => chw,
): Promise<Buffer[]> {
  const { count, channels, h, w } = shape;
  const session = await load(decoderGraph(model, channels, h, w, dtype, taesd));
  const per = channels * h * w;
  const images: Buffer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const out = await session.run({ latents: { dtype: 'float32', shape: [1, channels, h, w], data: latents.slice(i * per, (i + 1) * per) } });
      images.push(withPngText(await toPng(finish(out.image!.data as Float32Array), shape.width, shape.height), text(i)));
    }
  } finally {
    await session.release();
  }
  return images;
}

/** [3, H, W] in [−1, 1] → 8-bit RGB PNG. */
export async function toPng(chw: Float32Array, width: number, height: number): Promise<Buffer> {
  const plane = width * height;
  const rgb = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, (chw[c * plane + i]! + 1) / 2)) * 255);
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
