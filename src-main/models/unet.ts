// UNet2DConditionModel in the graph IR, config-driven like diffusers (SD 1.5 and tiny test configs share this code).
import type { Tensor } from '../graph/ir.js';
import { gelu, silu } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { checkUNetConfig } from './config-check.js';
import { conv, crossAttention, groupNormLayer, layerNormLayer, linearLayer, resnetBlock } from './layers.js';
import { type ParamFactory, withAdapters } from './params.js';
import type { Regions } from './regional.js';

export interface UNetConfig {
  sampleSize: number;
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  /** true per level where the block has cross-attention (CrossAttnDownBlock2D / CrossAttnUpBlock2D). */
  attentionLevels: boolean[];
  crossAttentionDim: number;
  /** SD 1.x's `attention_head_dim` is the number of heads. */
  heads: number;
  normGroups: number;
  normEps: number;
}

export const SD15_UNET: UNetConfig = {
  sampleSize: 64,
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [320, 640, 1280, 1280],
  layersPerBlock: 2,
  attentionLevels: [true, true, true, false],
  crossAttentionDim: 768,
  heads: 8,
  normGroups: 32,
  normEps: 1e-5,
};

/** diffusers' Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0): [cos | sin] of t·10000^(−i/half). */
export function timestepEmbedding(timestep: Tensor, dim: number): Tensor {
  const g = timestep.graph;
  const half = dim / 2;
  const freqs = g.constant(
    'float32',
    [1, half],
    Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half)),
  );
  const args = op.mul(op.reshape(op.cast(timestep, 'float32'), [timestep.shape[0]!, 1]), freqs);
  return op.concat([op.cos(args), op.sin(args)], 1);
}

function transformer2d(p: ParamFactory, name: string, x: Tensor, context: Tensor, cfg: UNetConfig, regions: Regions | null): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  return x.graph.scope(name, () => {
    // 1. Project in (SD 1.x: 1×1 conv) and flatten to tokens
    let hidden = conv(p, 'proj_in', groupNormLayer(p, 'norm', x, cfg.normGroups, 1e-6), c, c, 1);
    hidden = op.transpose(op.reshape(hidden, [b, c, h * w]), [0, 2, 1]);
    // 2. BasicTransformerBlock: self-attention, cross-attention, GEGLU feed-forward
    hidden = x.graph.scope('transformer_blocks.0', () => {
      x.graph.checkpoint();
      let t = op.add(hidden, crossAttention(p, 'attn1', layerNormLayer(p, 'norm1', hidden), null, cfg.heads));
      x.graph.checkpoint();
      t = op.add(t, crossAttention(p, 'attn2', layerNormLayer(p, 'norm2', t), context, cfg.heads, regions));
      x.graph.checkpoint();
      const normed = layerNormLayer(p, 'norm3', t);
      const ff = x.graph.scope('ff', () => {
        const [a, gate] = op.split(linearLayer(p, 'net.0.proj', normed, c, 8 * c), 2, [4 * c, 4 * c]);
        return linearLayer(p, 'net.2', op.mul(a!, gelu(gate!)), 4 * c, c);
      });
      return op.add(t, ff);
    });
    // 3. Back to an image and project out
    x.graph.checkpoint();
    const image = op.reshape(op.transpose(hidden, [0, 2, 1]), [b, c, h, w]);
    const out = op.add(conv(p, 'proj_out', image, c, c, 1), x);
    x.graph.checkpoint();
    return out;
  });
}

export interface UNetInputs {
  /** Noisy latents [B, 4, H/8, W/8]. */
  sample: Tensor;
  /** Timesteps [B] (float: samplers use fractional ones). */
  timestep: Tensor;
  /** Text encoder output [B, 77, 768]. */
  encoderHiddenStates: Tensor;
  /** Concepts confined to regions of the image (their adapters are among the factory's, by label). */
  regions?: Regions;
}

/** Predicts the noise ε in `sample`. */
export function unet(base: ParamFactory, cfg: UNetConfig, { sample, timestep, encoderHiddenStates, regions: r }: UNetInputs): Tensor {
  checkUNetConfig(cfg);
  const g = sample.graph;
  const regions = r ?? null;
  // a regional concept's LoRA delta is gated by its region on every spatial projection
  const p = regions ? withAdapters(base, regions.gate(base.adapters ?? [])) : base;
  const ch = cfg.blockOutChannels;
  const tembDim = ch[0]! * 4;
  return g.scope('unet', () => {
    // 1. Time embedding
    const temb = g.scope('time_embedding', () => {
      const t = linearLayer(p, 'linear_1', op.cast(timestepEmbedding(timestep, ch[0]!), sample.dtype), ch[0]!, tembDim);
      return linearLayer(p, 'linear_2', silu(t), tembDim, tembDim);
    });
    // 2. Pre-process (a checkpoint after each block: a checkpointed step keeps only what crosses them)
    g.checkpoint();
    let h = conv(p, 'conv_in', sample, cfg.inChannels, ch[0]!, 3, { padding: 1 });
    g.checkpoint();
    const skips: Tensor[] = [h];
    // 3. Down
    ch.forEach((outCh, level) => {
      g.scope(`down_blocks.${level}`, () => {
        for (let j = 0; j < cfg.layersPerBlock; j++) {
          h = resnetBlock(p, `resnets.${j}`, h, temb, outCh, cfg.normGroups, cfg.normEps);
          g.checkpoint();
          if (cfg.attentionLevels[level]) h = transformer2d(p, `attentions.${j}`, h, encoderHiddenStates, cfg, regions);
          skips.push(h);
        }
        if (level < ch.length - 1) {
          h = conv(p, 'downsamplers.0.conv', h, outCh, outCh, 3, { stride: 2, padding: 1 });
          g.checkpoint();
          skips.push(h);
        }
      });
    });
    // 4. Mid
    g.scope('mid_block', () => {
      const c = ch[ch.length - 1]!;
      h = resnetBlock(p, 'resnets.0', h, temb, c, cfg.normGroups, cfg.normEps);
      g.checkpoint();
      h = transformer2d(p, 'attentions.0', h, encoderHiddenStates, cfg, regions);
      h = resnetBlock(p, 'resnets.1', h, temb, c, cfg.normGroups, cfg.normEps);
      g.checkpoint();
    });
    // 5. Up
    const reversed = [...ch].reverse();
    const reversedAttention = [...cfg.attentionLevels].reverse();
    reversed.forEach((outCh, level) => {
      g.scope(`up_blocks.${level}`, () => {
        for (let j = 0; j <= cfg.layersPerBlock; j++) {
          h = resnetBlock(p, `resnets.${j}`, op.concat([h, skips.pop()!], 1), temb, outCh, cfg.normGroups, cfg.normEps);
          g.checkpoint();
          if (reversedAttention[level]) h = transformer2d(p, `attentions.${j}`, h, encoderHiddenStates, cfg, regions);
        }
        if (level < reversed.length - 1) h = conv(p, 'upsamplers.0.conv', op.upsampleNearest2x(h), outCh, outCh, 3, { padding: 1 });
        g.checkpoint();
      });
    });
    // 6. Post-process
    h = silu(groupNormLayer(p, 'conv_norm_out', h, cfg.normGroups, cfg.normEps));
    const eps = conv(p, 'conv_out', h, ch[0]!, cfg.outChannels, 3, { padding: 1 });
    g.checkpoint();
    return eps;
  });
}
