// Photo + mask → the fixed inputs of every training step: the photo's latent posterior, the mask at
// latent size, the encoder's view of the photo, and the two prompts' token ids.
import sharp from 'sharp';
import { AppError } from '../../common/app-error.js';
import { Graph } from '../../graph/graph.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { sessionForGraph } from '../../graph/runtime/session.js';
import { weightsFrom } from '../../models/params.js';
import { vaeLatentDistribution } from '../../models/vae.js';
import { CLIP_MEAN, CLIP_STD } from '../../models/vision.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import type { ConceptExample } from '../invert/step-feeds.js';
import { vaeFactor } from '../compose/generate.js';
import type { ImageEncoderChoice } from './encoder.js';

export interface ExampleOptions {
  cacheDir: string;
  provider?: ExecutionProvider;
  /** Latent side; SD's native size by default (64 → 512 px). */
  latentSize?: number;
  /** Draw each step's latents from the posterior (true), or always use its mean. */
  sampleLatents?: boolean;
}

export async function prepareExample(
  sd: StableDiffusionModel,
  encoder: Pick<ImageEncoderChoice, 'config' | 'pixels'>,
  photo: Buffer,
  mask: Buffer,
  classWord: string,
  options: ExampleOptions,
): Promise<ConceptExample> {
  const latent = options.latentSize ?? sd.unet.config.sampleSize;
  const size = latent * vaeFactor(sd);
  // 1. Photo → [−1, 1] at SD's size (centre crop) → the VAE's posterior over latents
  const rgb = await sharp(photo).removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
  const image = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) image[c * size * size + i] = rgb[i * 3 + c]! / 127.5 - 1;
  const g = new Graph('vae_encoder');
  const posterior = vaeLatentDistribution(weightsFrom(g, sd.vae.source, { prefix: 'vae.' }), sd.vae.config, g.input('image', 'float32', [1, 3, size, size]));
  g.output(posterior.mean, 'mean');
  g.output(posterior.std, 'std');
  const session = await sessionForGraph(g, options);
  const out = await session.run({ image: { dtype: 'float32', shape: [1, 3, size, size], data: image } });
  await session.release();
  // 2. Mask → soft values at latent size, with the same crop
  const m = await sharp(mask).greyscale().resize(latent, latent, { fit: 'cover', kernel: 'linear' }).raw().toBuffer();
  const softMask = Float32Array.from(m, (v) => v / 255);
  if (!softMask.some((v) => v > 0.5)) throw new AppError('invalid-input', 'The mask is empty at training resolution; mark the subject first.');
  // 3. The encoder's view: shortest side to S, centre crop, scaled as the encoder expects
  const s = encoder.config.imageSize;
  const encRgb = await sharp(photo).removeAlpha().resize(s, s, { fit: 'cover', kernel: 'cubic' }).raw().toBuffer();
  const pixels = new Float32Array(3 * s * s);
  for (let i = 0; i < s * s; i++) {
    for (let c = 0; c < 3; c++) {
      const v = encRgb[i * 3 + c]! / 255;
      pixels[c * s * s + i] = encoder.pixels === 'signed' ? v * 2 - 1 : (v - CLIP_MEAN[c]!) / CLIP_STD[c]!;
    }
  }
  // 4. Prompts
  const concept = sd.tokenizer.encode(`* ${classWord}`, ['*']);
  return {
    x0: Float32Array.from(out.mean!.data as Float32Array),
    ...(options.sampleLatents ? { x0Std: Float32Array.from(out.std!.data as Float32Array) } : {}),
    mask: softMask,
    pixels,
    idsConcept: concept.ids,
    idsClass: sd.tokenizer.encode(classWord).ids,
    placeholderPosition: concept.placeholders[0]!.position,
  };
}
