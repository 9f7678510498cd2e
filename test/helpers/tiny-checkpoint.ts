// Writes a small SD 1.x-architecture model with deterministic random weights, in both formats users have:
// a diffusers folder and a single-file LDM .safetensors. The real loading code is then tested on them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { DType, HostArray } from '../../src-main/graph/dtype.js';
import { Graph } from '../../src-main/graph/graph.js';
import type { Shape } from '../../src-main/graph/shape.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { weightsFrom, type WeightSource } from '../../src-main/models/params.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../src-main/models/tiny-configs.js';
import { unet } from '../../src-main/models/unet.js';
import { vaeDecode, vaeEncode } from '../../src-main/models/vae.js';
import { clipVisionPooled } from '../../src-main/models/vision.js';
import { ClipTokenizer } from '../../src-main/tokenizer/clip-tokenizer.js';
import { textKeyToLdm, unetKeyToLdm, vaeKeyToLdm } from '../../src-main/weights/ldm-keys.js';
import { writeSafetensors, type TensorToWrite } from '../../src-main/weights/safetensors.js';
import { BUNDLED_MERGES } from '../../src-main/weights/sd-loader.js';
import { RandomSource } from '../../src-main/weights/sources.js';

/** Every weight a model asks for, with random values. */
class Recorder implements WeightSource {
  readonly label = 'recorder';
  readonly seen = new Map<string, TensorToWrite>();
  private readonly random = new RandomSource(3);
  shapeOf(_n: string, expected: Shape) {
    return expected;
  }
  load(name: string, _dtype: DType, shape: Shape): HostArray {
    const data = this.random.load(name, 'float32', shape) as Float32Array;
    // biases and norm offsets get small values too, so a wrong mapping cannot hide behind zeros
    if (name.endsWith('bias')) data.forEach((_, i) => (data[i] = 0.01 * Math.sin(i + name.length)));
    this.seen.set(name, { dtype: 'F32', shape: [...shape], data });
    return data;
  }
}

function record(build: (g: Graph, source: WeightSource) => void): Map<string, TensorToWrite> {
  const recorder = new Recorder();
  build(new Graph('record'), recorder);
  return recorder.seen;
}

export function tinyWeights() {
  const unetW = record((g, s) =>
    unet(weightsFrom(g, s, { prefix: 'unet.' }), TINY_UNET, {
      sample: g.input('s', 'float32', [1, 4, 8, 8]),
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: g.input('c', 'float32', [1, 77, TINY_CLIP_TEXT.hiddenSize]),
    }),
  );
  const textW = record((g, s) => clipTextEncoder(weightsFrom(g, s), TINY_CLIP_TEXT, { inputIds: g.input('ids', 'int64', [1, 77]) }));
  const vaeW = record((g, s) => {
    vaeDecode(weightsFrom(g, s, { prefix: 'vae.' }), TINY_VAE, g.input('z', 'float32', [1, 4, 8, 8]));
    vaeEncode(weightsFrom(g, s, { prefix: 'vae.' }), TINY_VAE, g.input('x', 'float32', [1, 3, 16, 16]));
  });
  return { unetW, textW, vaeW };
}

export function writeTinyDiffusers(dir: string): string {
  const { unetW, textW, vaeW } = tinyWeights();
  for (const c of ['unet', 'text_encoder', 'vae', 'tokenizer', 'scheduler']) mkdirSync(join(dir, c), { recursive: true });
  writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline', _diffusers_version: '0.30.0' }));
  writeFileSync(
    join(dir, 'unet', 'config.json'),
    JSON.stringify({
      sample_size: TINY_UNET.sampleSize,
      in_channels: 4,
      out_channels: 4,
      block_out_channels: TINY_UNET.blockOutChannels,
      layers_per_block: TINY_UNET.layersPerBlock,
      down_block_types: TINY_UNET.attentionLevels.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
      cross_attention_dim: TINY_UNET.crossAttentionDim,
      attention_head_dim: TINY_UNET.heads,
      norm_num_groups: TINY_UNET.normGroups,
    }),
  );
  writeFileSync(
    join(dir, 'text_encoder', 'config.json'),
    JSON.stringify({
      hidden_size: TINY_CLIP_TEXT.hiddenSize,
      intermediate_size: TINY_CLIP_TEXT.intermediateSize,
      num_hidden_layers: TINY_CLIP_TEXT.layers,
      num_attention_heads: TINY_CLIP_TEXT.heads,
      max_position_embeddings: 77,
      vocab_size: TINY_CLIP_TEXT.vocabSize,
    }),
  );
  writeFileSync(
    join(dir, 'vae', 'config.json'),
    JSON.stringify({ block_out_channels: TINY_VAE.blockOutChannels, layers_per_block: TINY_VAE.layersPerBlock, norm_num_groups: TINY_VAE.normGroups, latent_channels: 4, scaling_factor: 0.18215 }),
  );
  writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }));
  const strip = (m: Map<string, TensorToWrite>, prefix: string) => Object.fromEntries([...m].map(([k, v]) => [k.startsWith(prefix) ? k.slice(prefix.length) : k, v]));
  writeSafetensors(join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), strip(unetW, ''));
  writeSafetensors(join(dir, 'text_encoder', 'model.safetensors'), strip(textW, ''));
  writeSafetensors(join(dir, 'vae', 'diffusion_pytorch_model.safetensors'), strip(vaeW, ''));
  // the tokenizer folder in HF's format, from the same merges
  const tok = ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  const vocab: Record<string, number> = {};
  for (let id = 0; id < tok.vocabSize; id++) vocab[tok.decodeToken(id)] = id;
  writeFileSync(join(dir, 'tokenizer', 'vocab.json'), JSON.stringify(vocab));
  const lines = gunzipSync(readFileSync(BUNDLED_MERGES)).toString('utf8').split('\n');
  writeFileSync(join(dir, 'tokenizer', 'merges.txt'), ['#version: 0.2', ...lines.slice(1, 1 + 48894)].join('\n'));
  return dir;
}

export function writeTinySingleFile(path: string): string {
  const { unetW, textW, vaeW } = tinyWeights();
  const out: Record<string, TensorToWrite> = {};
  for (const [k, v] of unetW) out[unetKeyToLdm(k.replace(/^unet\./, ''), TINY_UNET)!] = v;
  for (const [k, v] of textW) out[textKeyToLdm(k)[0]!] = v;
  for (const [k, v] of vaeW) {
    const key = vaeKeyToLdm(k.replace(/^vae\./, ''), TINY_VAE)!;
    // LDM stores the VAE attention projections as 1×1 convolutions
    out[key] = /mid\.attn_1\.(q|k|v|proj_out)\.weight$/.test(key) ? { ...v, shape: [...v.shape, 1, 1] } : v;
  }
  out['model_ema.decay'] = { dtype: 'F32', shape: [], data: Float32Array.of(0.9999) };
  writeSafetensors(path, out, { format: 'pt' });
  return path;
}

/** A tiny CLIP vision model folder (HF CLIPVisionModel layout: config.json + model.safetensors). */
export function writeTinyClipVision(dir: string): string {
  const config = { imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 12, eps: 1e-5, tokenDim: TINY_CLIP_TEXT.hiddenSize };
  const weights = record((g, s) => clipVisionPooled(weightsFrom(g, s), config, g.input('pixels', 'float32', [1, 3, 32, 32])));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'clip_vision_model', image_size: 32, patch_size: 8, hidden_size: 48, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 12 }),
  );
  writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(weights));
  return dir;
}
