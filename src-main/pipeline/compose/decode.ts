// Final latents → PNG images through the VAE decoder, each with its settings written inside.
import sharp from 'sharp';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import { weightsFrom } from '../../models/params.js';
import { vaeDecode } from '../../models/vae.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import { withPngText } from '../sample/png-metadata.js';
import type { SessionLoader } from './sessions.js';

/** Decodes each image's latents [channels, h, w] to an 8-bit RGB PNG carrying `text(i)`. */
export async function decodeImages(
  model: StableDiffusionModel,
  latents: Float32Array,
  shape: { count: number; channels: number; h: number; w: number; width: number; height: number },
  load: SessionLoader,
  dtype: FloatDType,
  text: (i: number) => Record<string, string>,
): Promise<Buffer[]> {
  const { count, channels, h, w } = shape;
  const g = new Graph('vae_decoder');
  const lat = g.input('latents', 'float32', [1, channels, h, w]);
  g.output(op.cast(vaeDecode(weightsFrom(g, model.vae.source, { dtype, prefix: 'vae.' }), model.vae.config, op.cast(lat, dtype)), 'float32'), 'image');
  const session = await load(g);
  const per = channels * h * w;
  const images: Buffer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const out = await session.run({ latents: { dtype: 'float32', shape: [1, channels, h, w], data: latents.slice(i * per, (i + 1) * per) } });
      images.push(withPngText(await toPng(out.image!.data as Float32Array, shape.width, shape.height), text(i)));
    }
  } finally {
    await session.release();
  }
  return images;
}

/** [3, H, W] in [−1, 1] → 8-bit RGB PNG. */
async function toPng(chw: Float32Array, width: number, height: number): Promise<Buffer> {
  const plane = width * height;
  const rgb = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, (chw[c * plane + i]! + 1) / 2)) * 255);
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
