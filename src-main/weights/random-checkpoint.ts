// Checkpoints with SD 1.x's (or a small test model's) architecture and random weights, written in the
// formats users have: a single LDM .safetensors file, a diffusers folder, and a CLIP vision folder. Tests and benchmarks
// then load them through the real loaders.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DType, HostArray } from '../graph/dtype.js';
import { Graph } from '../graph/graph.js';
import { numel, type Shape } from '../graph/shape.js';
import { type ClipTextConfig, clipTextEncoder } from '../models/clip-text.js';
import { weightsFrom, type WeightSource } from '../models/params.js';
import { unet, type UNetConfig } from '../models/unet.js';
import { type VaeConfig, vaeDecode, vaeEncode } from '../models/vae.js';
import { clipVisionPooled, type VisionConfig } from '../models/vision.js';
import { textKeyToLdm, unetKeyToLdm, vaeKeyToLdm } from './ldm-keys.js';
import { type TensorToWrite, writeSafetensors } from './safetensors.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { BUNDLED_MERGES } from './sd-model.js';

/** Values for one weight, by its diffusers name and shape. */
export type WeightFill = (name: string, shape: Shape) => Float32Array;

/** Every weight a model asks for, made by `fill` and kept by name. */
export function recordWeights(build: (g: Graph, source: WeightSource) => void, fill: WeightFill): Map<string, TensorToWrite> {
  const seen = new Map<string, TensorToWrite>();
  const source: WeightSource = {
    label: 'random weights',
    shapeOf: (_name, expected) => expected,
    load(name: string, _dtype: DType, shape: Shape): HostArray {
      const data = fill(name, shape);
      seen.set(name, { dtype: 'F32', shape: [...shape], data });
      return data;
    },
  };
  build(new Graph('record'), source);
  return seen;
}

export interface SdConfigs {
  unet: UNetConfig;
  text: ClipTextConfig;
  vae: VaeConfig;
}

/** UNet, text encoder and VAE weights, by diffusers name. */
export function sdWeights(cfg: SdConfigs, fill: WeightFill) {
  const s = cfg.unet.sampleSize;
  const unetW = recordWeights(
    (g, src) =>
      unet(weightsFrom(g, src, { prefix: 'unet.' }), cfg.unet, {
        sample: g.input('s', 'float32', [1, cfg.unet.inChannels, s, s]),
        timestep: g.input('t', 'float32', [1]),
        encoderHiddenStates: g.input('c', 'float32', [1, 77, cfg.text.hiddenSize]),
      }),
    fill,
  );
  const textW = recordWeights((g, src) => clipTextEncoder(weightsFrom(g, src), cfg.text, { inputIds: g.input('ids', 'int64', [1, 77]) }), fill);
  const f = 2 ** (cfg.vae.blockOutChannels.length - 1);
  const vaeW = recordWeights((g, src) => {
    vaeDecode(weightsFrom(g, src, { prefix: 'vae.' }), cfg.vae, g.input('z', 'float32', [1, 4, 8, 8]));
    vaeEncode(weightsFrom(g, src, { prefix: 'vae.' }), cfg.vae, g.input('x', 'float32', [1, 3, 8 * f, 8 * f]));
  }, fill);
  return { unetW, textW, vaeW };
}

/** One LDM-named .safetensors file (as A1111 and ComfyUI users have), from diffusers-named weights. */
export function writeSingleFileCheckpoint(path: string, cfg: SdConfigs, weights: ReturnType<typeof sdWeights>): string {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, v] of weights.unetW) out[unetKeyToLdm(k.replace(/^unet\./, ''), cfg.unet)!] = v;
  for (const [k, v] of weights.textW) out[textKeyToLdm(k)[0]!] = v;
  for (const [k, v] of weights.vaeW) {
    const key = vaeKeyToLdm(k.replace(/^vae\./, ''), cfg.vae)!;
    // LDM stores the VAE attention projections as 1×1 convolutions
    out[key] = /mid\.attn_1\.(q|k|v|proj_out)\.weight$/.test(key) ? { ...v, shape: [...v.shape, 1, 1] } : v;
  }
  out['model_ema.decay'] = { dtype: 'F32', shape: [], data: Float32Array.of(0.9999) };
  writeSafetensors(path, out, { format: 'pt' });
  return path;
}

/** A diffusers pipeline folder (model_index.json, configs, weights, HF tokenizer files) from diffusers-named weights. */
export function writeDiffusersFolder(dir: string, cfg: SdConfigs, weights: ReturnType<typeof sdWeights>): string {
  const { unet: u, text: t, vae: v } = cfg;
  for (const c of ['unet', 'text_encoder', 'vae', 'tokenizer', 'scheduler']) mkdirSync(join(dir, c), { recursive: true });
  const json = (file: string, value: unknown) => writeFileSync(join(dir, file), JSON.stringify(value));
  json('model_index.json', { _class_name: 'StableDiffusionPipeline', _diffusers_version: '0.30.0' });
  json('unet/config.json', {
    sample_size: u.sampleSize,
    in_channels: u.inChannels,
    out_channels: u.outChannels,
    block_out_channels: u.blockOutChannels,
    layers_per_block: u.layersPerBlock,
    down_block_types: u.attentionLevels.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    cross_attention_dim: u.crossAttentionDim,
    attention_head_dim: u.heads,
    norm_num_groups: u.normGroups,
  });
  json('text_encoder/config.json', {
    hidden_size: t.hiddenSize,
    intermediate_size: t.intermediateSize,
    num_hidden_layers: t.layers,
    num_attention_heads: t.heads,
    max_position_embeddings: t.maxPositions,
    vocab_size: t.vocabSize,
  });
  json('vae/config.json', {
    block_out_channels: v.blockOutChannels,
    layers_per_block: v.layersPerBlock,
    norm_num_groups: v.normGroups,
    latent_channels: v.latentChannels,
    scaling_factor: v.scalingFactor,
  });
  json('scheduler/scheduler_config.json', { _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' });
  writeSafetensors(join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), Object.fromEntries(weights.unetW));
  writeSafetensors(join(dir, 'text_encoder', 'model.safetensors'), Object.fromEntries(weights.textW));
  writeSafetensors(join(dir, 'vae', 'diffusion_pytorch_model.safetensors'), Object.fromEntries(weights.vaeW));
  // the tokenizer in HF's format, from the bundled merges (the first 48894 merges make CLIP's 49408 tokens)
  const tokenizer = ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  const vocab: Record<string, number> = {};
  for (let id = 0; id < tokenizer.vocabSize; id++) vocab[tokenizer.decodeToken(id)] = id;
  writeFileSync(join(dir, 'tokenizer', 'vocab.json'), JSON.stringify(vocab));
  const lines = gunzipSync(readFileSync(BUNDLED_MERGES)).toString('utf8').split('\n');
  writeFileSync(join(dir, 'tokenizer', 'merges.txt'), ['#version: 0.2', ...lines.slice(1, 1 + 48894)].join('\n'));
  return dir;
}

/** A CLIP vision model folder (HF CLIPVisionModel layout: config.json + model.safetensors). */
export function writeClipVisionFolder(dir: string, config: VisionConfig, fill: WeightFill): string {
  const weights = recordWeights(
    (g, s) => clipVisionPooled(weightsFrom(g, s), config, g.input('pixels', 'float32', [1, 3, config.imageSize, config.imageSize])),
    fill,
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'clip_vision_model',
      image_size: config.imageSize,
      patch_size: config.patchSize,
      hidden_size: config.hiddenSize,
      intermediate_size: config.intermediateSize,
      num_hidden_layers: config.layers,
      num_attention_heads: config.heads,
      layer_norm_eps: config.eps,
    }),
  );
  writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(weights));
  return dir;
}

/**
 * Fast seeded weights with RandomSource's scales (norm weights 1, biases 0, embeddings 0.02, others
 * 1/√fan_in), drawn uniformly with the same variance: SD 1.5 has a billion of them.
 */
export function fastRandomFill(seed: number): WeightFill {
  let state = (seed * 2654435761) >>> 0 || 1;
  return (name, shape) => {
    const n = numel(shape);
    const values = new Float32Array(n);
    const leaf = name.split('.').slice(-2).join('.');
    if (shape.length === 1 && /norm/.test(leaf) && name.endsWith('weight')) return values.fill(1);
    if (name.endsWith('bias')) return values;
    const scale = (/embedding/.test(name) ? 0.02 : 1 / Math.sqrt(n / shape[0]!)) * Math.sqrt(3);
    let x = state;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      values[i] = ((x >>> 0) / 2147483648 - 1) * scale;
    }
    state = x >>> 0 || 1;
    return values;
  };
}
