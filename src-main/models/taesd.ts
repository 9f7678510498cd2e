// TAESD, the tiny autoencoder for SD latents (madebyollin's; diffusers' AutoencoderTiny): ReLU convolutions at one
// width, no norms and no attention, about 1% of the VAE's work. Its decoder draws previews while sampling and, when
// the user asks, fast final images; its encoder gives quick latents of a photo. Names are diffusers'
// (`decoder.layers.N…`); weights/taesd-files.ts maps the original single files onto them.
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import { checkTaesdConfig } from './config-check.js';
import { conv } from './layers.js';
import type { ParamFactory } from './params.js';

export interface TaesdConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  encoderBlockOutChannels: number[];
  decoderBlockOutChannels: number[];
  /** Blocks at each level; between levels the encoder halves the size (a stride-2 conv), the decoder doubles it. */
  numEncoderBlocks: number[];
  numDecoderBlocks: number[];
  /** Latents are divided by it before decoding (1 for SD's TAESD, which reads the latents the UNet makes). */
  scalingFactor: number;
}

/** madebyollin/taesd for SD 1.x (diffusers' AutoencoderTiny defaults). */
export const SD15_TAESD: TaesdConfig = {
  inChannels: 3,
  outChannels: 3,
  latentChannels: 4,
  encoderBlockOutChannels: [64, 64, 64, 64],
  decoderBlockOutChannels: [64, 64, 64, 64],
  numEncoderBlocks: [1, 3, 3, 3],
  numDecoderBlocks: [3, 3, 3, 1],
  scalingFactor: 1,
};

/** How many pixels one latent covers: the decoder doubles the size between levels (8 for SD's TAESD). */
export const taesdScale = (cfg: TaesdConfig) => 2 ** (cfg.numDecoderBlocks.length - 1);

/** conv 3×3 → ReLU → conv → ReLU → conv, plus the input, then ReLU (AutoencoderTinyBlock at one width). */
function block(p: ParamFactory, name: string, x: Tensor, ch: number): Tensor {
  return x.graph.scope(name, () => {
    let h = op.relu(conv(p, 'conv.0', x, ch, ch, 3, { padding: 1 }));
    h = op.relu(conv(p, 'conv.2', h, ch, ch, 3, { padding: 1 }));
    h = conv(p, 'conv.4', h, ch, ch, 3, { padding: 1 });
    return op.relu(op.add(h, x));
  });
}

/** Latents [B, 4, h, w] as the UNet makes them → image [B, 3, 8h, 8w] in about [−1, 1] (not clamped). */
export function taesdDecode(p: ParamFactory, cfg: TaesdConfig, latents: Tensor): Tensor {
  checkTaesdConfig(cfg);
  const g = latents.graph;
  return g.scope('decoder', () =>
    g.scope('layers', () => {
      const ch = cfg.decoderBlockOutChannels[0]!;
      // 1. a soft clamp of the latents to ±3
      const z = op.mul(op.tanh(op.mul(latents, 1 / (3 * cfg.scalingFactor))), 3);
      // 2. the layers, numbered as diffusers' Sequential numbers them (ReLU and Upsample take an index too)
      let index = 0;
      let h = op.relu(conv(p, `${index}`, z, cfg.latentChannels, ch, 3, { padding: 1 }));
      index += 2;
      cfg.numDecoderBlocks.forEach((blocks, level) => {
        for (let j = 0; j < blocks; j++) h = block(p, `${index++}`, h, ch);
        const last = level === cfg.numDecoderBlocks.length - 1;
        if (!last) {
          h = op.upsampleNearest2x(h);
          index++;
        }
        h = conv(p, `${index++}`, h, ch, last ? cfg.outChannels : ch, 3, { padding: 1, bias: last });
      });
      // 3. TAESD draws in [0, 1]; diffusers' convention is [−1, 1]
      return op.sub(op.mul(h, 2), op.like(h, 1));
    }),
  );
}

/** Image [B, 3, H, W] in [−1, 1] → latents [B, 4, H/8, W/8] as the UNet reads them. */
export function taesdEncode(p: ParamFactory, cfg: TaesdConfig, image: Tensor): Tensor {
  checkTaesdConfig(cfg);
  const g = image.graph;
  return g.scope('encoder', () =>
    g.scope('layers', () => {
      const ch = cfg.encoderBlockOutChannels[0]!;
      let h = op.mul(op.add(image, op.like(image, 1)), 0.5); // TAESD reads [0, 1]
      let index = 0;
      cfg.numEncoderBlocks.forEach((blocks, level) => {
        h =
          level === 0
            ? conv(p, `${index++}`, h, cfg.inChannels, ch, 3, { padding: 1 })
            : conv(p, `${index++}`, h, ch, ch, 3, { padding: 1, stride: 2, bias: false });
        for (let j = 0; j < blocks; j++) h = block(p, `${index++}`, h, ch);
      });
      const latents = conv(p, `${index}`, h, ch, cfg.latentChannels, 3, { padding: 1 });
      return op.mul(latents, cfg.scalingFactor);
    }),
  );
}
