// Writes a small SD 1.x-architecture model with deterministic random weights, in both formats users have:
// a diffusers folder and a single-file LDM .safetensors. The real loading code is then tested on them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../src-main/models/tiny-configs.js';
import { ClipTokenizer } from '../../src-main/tokenizer/clip-tokenizer.js';
import { type SdConfigs, sdWeights, type WeightFill, writeClipVisionFolder, writeSingleFileCheckpoint } from '../../src-main/weights/random-checkpoint.js';
import { writeSafetensors, type TensorToWrite } from '../../src-main/weights/safetensors.js';
import { BUNDLED_MERGES } from '../../src-main/weights/sd-loader.js';
import { RandomSource } from '../../src-main/weights/sources.js';

const random = new RandomSource(3);
/** RandomSource's values; biases and norm offsets get small values too, so a wrong mapping cannot hide behind zeros. */
const fill: WeightFill = (name, shape) => {
  const data = random.load(name, 'float32', shape) as Float32Array;
  if (name.endsWith('bias')) data.forEach((_, i) => (data[i] = 0.01 * Math.sin(i + name.length)));
  return data;
};

const TINY: SdConfigs = { unet: TINY_UNET, text: TINY_CLIP_TEXT, vae: TINY_VAE };

export const tinyWeights = () => sdWeights(TINY, fill);

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

export const writeTinySingleFile = (path: string): string => writeSingleFileCheckpoint(path, TINY, tinyWeights());

/** A tiny CLIP vision model folder (HF CLIPVisionModel layout: config.json + model.safetensors). */
export const writeTinyClipVision = (dir: string): string =>
  writeClipVisionFolder(dir, { imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 12, eps: 1e-5, tokenDim: TINY_CLIP_TEXT.hiddenSize }, fill);
