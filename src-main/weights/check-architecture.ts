// Is this an SD 1.x model the app can run? Each part's graph is built once against the model's weight
// names and shapes only (no value is read): a missing layer, a tensor of the wrong shape or a config
// that cannot fit (groups that do not divide the channels, a text width the UNet does not take: the models'
// own config checks) is refused here, with its name, instead of failing later inside a drawing or a training step.
import { AppError } from '../common/app-error.js';
import { Graph } from '../graph/graph.js';
import { clipTextEncoder } from '../models/clip-text.js';
import { weightsFrom } from '../models/params.js';
import { unet } from '../models/unet.js';
import { vaeDecode, vaeLatentDistribution } from '../models/vae.js';
import type { StableDiffusionModel } from './sd-model.js';
import { firstNonFiniteTensor } from './safetensors.js';
import { SafetensorsSource, shapesOnly } from './sources.js';

export function checkArchitecture(model: StableDiffusionModel): void {
  const part = (what: string, build: (g: Graph) => void) => {
    try {
      build(new Graph(`check ${what}`));
    } catch (err) {
      if (err instanceof AppError) throw err;
      const reason = (err as Error).message.split('\n')[0]!;
      // a config the models refuse (models/config-check.ts) is named as such; anything else is a weight that does not fit
      if (reason.startsWith('config: '))
        throw new AppError('unsupported-model', `${model.label}: its ${what} cannot be built as configured (${reason.slice('config: '.length)}).`);
      throw new AppError('unsupported-model', `${model.label} is not a complete SD 1.x model: its ${what} does not fit the architecture (${reason}).`);
    }
  };
  const u = model.unet.config;
  const t = model.textEncoder.config;
  if (u.crossAttentionDim !== t.hiddenSize) {
    throw new AppError(
      'unsupported-model',
      `${model.label}: its UNet attends to ${u.crossAttentionDim}-wide text but its text encoder is ${t.hiddenSize} wide; the parts do not belong together.`,
    );
  }
  const side = 2 ** (u.blockOutChannels.length - 1);
  part('text encoder', (g) => {
    clipTextEncoder(weightsFrom(g, shapesOnly(model.textEncoder.source)), t, {
      inputIds: g.input('ids', 'int64', [1, t.maxPositions > 77 ? 77 : t.maxPositions]),
    });
  });
  part('UNet', (g) => {
    unet(weightsFrom(g, shapesOnly(model.unet.source), { prefix: 'unet.' }), u, {
      sample: g.input('x', 'float32', [1, u.inChannels, side, side]),
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: g.input('c', 'float32', [1, 77, u.crossAttentionDim]),
    });
  });
  part('VAE', (g) => {
    const v = model.vae.config;
    const factor = 2 ** (v.blockOutChannels.length - 1);
    vaeDecode(weightsFrom(g, shapesOnly(model.vae.source), { prefix: 'vae.' }), v, g.input('z', 'float32', [1, v.latentChannels, 1, 1]));
    vaeLatentDistribution(weightsFrom(g, shapesOnly(model.vae.source), { prefix: 'vae.' }), v, g.input('img', 'float32', [1, v.inChannels, factor, factor]));
  });
}

/**
 * SD 1.5's inpainting checkpoints take 9 input channels (latents, mask, masked image); the app inpaints with the base
 * model instead (the masked latent blend at every step) and learns on it, so such a UNet is refused before any work.
 */
export function refuseInpaintingUNet(model: StableDiffusionModel): void {
  if (model.unet.config.inChannels === 9)
    throw new AppError(
      'unsupported-model',
      `${model.label} is an inpainting checkpoint (its UNet takes 9 channels: latents, mask and masked image). SingleInsert Studio inpaints with the SD 1.5 base model, blending the kept part back at every step: choose a base SD 1.5 model, and inpaint with a start image and a mask in Compose.`,
    );
}

/**
 * Every weight file of the model read once for NaN and infinities (when it is installed: a drawing
 * with such weights comes out as nothing but NaN).
 */
export function refuseNonFiniteWeights(model: StableDiffusionModel): void {
  const seen = new Set<string>();
  for (const part of [model.unet, model.textEncoder, model.vae]) {
    if (!(part.source instanceof SafetensorsSource)) continue;
    for (const file of part.source.files) {
      if (seen.has(file.path)) continue;
      seen.add(file.path);
      const bad = firstNonFiniteTensor(file);
      if (bad)
        throw new AppError('corrupt-file', `${file.path}: tensor ${bad} holds NaN or infinite values, so the model would draw nothing; download it again.`);
    }
  }
}
