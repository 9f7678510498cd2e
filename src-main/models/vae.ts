// AutoencoderKL (SD 1.x VAE): the decoder turns latents into images, the encoder images into latents.
import type { Tensor } from '../graph/ir.js';
import { silu } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { checkVaeConfig } from './config-check.js';
import { attend, conv, groupNormLayer, linearLayer, resnetBlock } from './layers.js';
import type { ParamFactory } from './params.js';

export interface VaeConfig {
  inChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  scalingFactor: number;
}

export const SD15_VAE: VaeConfig = {
  inChannels: 3,
  latentChannels: 4,
  blockOutChannels: [128, 256, 512, 512],
  layersPerBlock: 2,
  normGroups: 32,
  scalingFactor: 0.18215,
};

const EPS = 1e-6;

/** The VAE's single-head self-attention over pixels (group norm, to_q/to_k/to_v/to_out.0 with biases). */
function vaeAttention(p: ParamFactory, name: string, x: Tensor, groups: number): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  return x.graph.scope(name, () => {
    const tokens = op.transpose(op.reshape(groupNormLayer(p, 'group_norm', x, groups, EPS), [b, c, h * w]), [0, 2, 1]);
    const heads = (t: Tensor) => op.reshape(t, [b, 1, h * w, c]);
    const q = heads(linearLayer(p, 'to_q', tokens, c, c));
    const k = heads(linearLayer(p, 'to_k', tokens, c, c));
    const v = heads(linearLayer(p, 'to_v', tokens, c, c));
    const out = linearLayer(p, 'to_out.0', op.reshape(attend(p, q, k, v), [b, h * w, c]), c, c);
    return op.add(x, op.reshape(op.transpose(out, [0, 2, 1]), [b, c, h, w]));
  });
}

function midBlock(p: ParamFactory, x: Tensor, cfg: VaeConfig): Tensor {
  const c = x.shape[1]!;
  return x.graph.scope('mid_block', () => {
    let h = resnetBlock(p, 'resnets.0', x, null, c, cfg.normGroups, EPS);
    h = vaeAttention(p, 'attentions.0', h, cfg.normGroups);
    return resnetBlock(p, 'resnets.1', h, null, c, cfg.normGroups, EPS);
  });
}

/** Latents [B, 4, h, w] (already scaled by scalingFactor) → image [B, 3, 8h, 8w] in [−1, 1]. */
export function vaeDecode(p: ParamFactory, cfg: VaeConfig, latents: Tensor): Tensor {
  checkVaeConfig(cfg);
  const g = latents.graph;
  return g.scope('vae', () => {
    const z = conv(p, 'post_quant_conv', op.mul(latents, 1 / cfg.scalingFactor), cfg.latentChannels, cfg.latentChannels, 1);
    return g.scope('decoder', () => {
      const ch = [...cfg.blockOutChannels].reverse();
      let h = conv(p, 'conv_in', z, cfg.latentChannels, ch[0]!, 3, { padding: 1 });
      h = midBlock(p, h, cfg);
      ch.forEach((outCh, level) => {
        g.scope(`up_blocks.${level}`, () => {
          for (let j = 0; j <= cfg.layersPerBlock; j++) h = resnetBlock(p, `resnets.${j}`, h, null, outCh, cfg.normGroups, EPS);
          if (level < ch.length - 1) h = conv(p, 'upsamplers.0.conv', op.upsampleNearest2x(h), outCh, outCh, 3, { padding: 1 });
        });
      });
      h = silu(groupNormLayer(p, 'conv_norm_out', h, cfg.normGroups, EPS));
      return conv(p, 'conv_out', h, ch[ch.length - 1]!, cfg.inChannels, 3, { padding: 1 });
    });
  });
}

/** The encoder's posterior over latents, already × the scaling factor: mean and standard deviation [B, C, h, w]. */
export function vaeLatentDistribution(p: ParamFactory, cfg: VaeConfig, image: Tensor): { mean: Tensor; std: Tensor } {
  checkVaeConfig(cfg);
  const g = image.graph;
  return g.scope('vae', () => {
    const moments = g.scope('encoder', () => {
      const ch = cfg.blockOutChannels;
      let h = conv(p, 'conv_in', image, cfg.inChannels, ch[0]!, 3, { padding: 1 });
      ch.forEach((outCh, level) => {
        g.scope(`down_blocks.${level}`, () => {
          for (let j = 0; j < cfg.layersPerBlock; j++) h = resnetBlock(p, `resnets.${j}`, h, null, outCh, cfg.normGroups, EPS);
          // diffusers pads (0, 1, 0, 1) before a stride-2 conv with no padding
          if (level < ch.length - 1) h = conv(p, 'downsamplers.0.conv', op.pad(h, [0, 0, 0, 0, 0, 0, 1, 1]), outCh, outCh, 3, { stride: 2 });
        });
      });
      h = midBlock(p, h, cfg);
      h = silu(groupNormLayer(p, 'conv_norm_out', h, cfg.normGroups, EPS));
      return conv(p, 'conv_out', h, ch[ch.length - 1]!, 2 * cfg.latentChannels, 3, { padding: 1 });
    });
    const quant = conv(p, 'quant_conv', moments, 2 * cfg.latentChannels, 2 * cfg.latentChannels, 1);
    // diffusers clamps the log-variance to [−30, 20] before std = exp(logvar / 2)
    const logvar = op.min(op.max(op.slice(quant, 1, cfg.latentChannels, 2 * cfg.latentChannels), op.like(quant, -30)), op.like(quant, 20));
    return { mean: op.mul(op.slice(quant, 1, 0, cfg.latentChannels), cfg.scalingFactor), std: op.mul(op.exp(op.mul(logvar, 0.5)), cfg.scalingFactor) };
  });
}

/** Image [B, 3, H, W] in [−1, 1] → the posterior's mean latents × scaling factor. */
export function vaeEncode(p: ParamFactory, cfg: VaeConfig, image: Tensor): Tensor {
  return vaeLatentDistribution(p, cfg, image).mean;
}
