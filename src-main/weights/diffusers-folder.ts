// Diffusers folders (model_index.json, unet/, text_encoder/, vae/, tokenizer/): configs checked field by field.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { readSmallFileSync } from '../common/regular-file.js';
import type { ClipTextConfig } from '../models/clip-text.js';
import type { UNetConfig } from '../models/unet.js';
import type { VaeConfig } from '../models/vae.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { checkConfig, diffusersTextConfig, diffusersUNetConfig, diffusersVaeConfig } from './diffusers-configs.js';
import { vaeLegacyAttentionKey } from './ldm-keys.js';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.js';
import { BUNDLED_MERGES, familyMessage, refusePickle, type StableDiffusionModel } from './sd-model.js';
import { SafetensorsSource } from './sources.js';

/** Configs are a few kB, CLIP's vocabulary and merges about 1 MB each. */
const MAX_CONFIG_BYTES = 4 << 20;
const MAX_VOCAB_BYTES = 16 << 20;

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readSmallFileSync(path, MAX_CONFIG_BYTES, 'a JSON config').toString('utf8')) as T;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('corrupt-file', `${path} is missing or not valid JSON (${(err as Error).message.split('\n')[0]}).`);
  }
}

/** The tokenizer/ folder's vocabulary and merges, or one line on what makes them unusable. */
function folderTokenizer(dir: string): ClipTokenizer {
  const vocab = readSmallFileSync(join(dir, 'vocab.json'), MAX_VOCAB_BYTES, 'a vocabulary').toString('utf8');
  const merges = readSmallFileSync(join(dir, 'merges.txt'), MAX_VOCAB_BYTES, 'a merges file').toString('utf8');
  try {
    return ClipTokenizer.fromVocabAndMerges(vocab, merges);
  } catch (err) {
    throw new AppError('corrupt-file', `${dir}: the tokenizer's vocab.json or merges.txt is unusable (${(err as Error).message.split('\n')[0]}).`);
  }
}

function componentWeights(dir: string, component: string, names: string[]): SafetensorsFile {
  for (const name of names) {
    const p = join(dir, component, name);
    if (existsSync(p)) return readSafetensorsHeader(p);
  }
  const pickled = ['diffusion_pytorch_model.bin', 'pytorch_model.bin'].map((n) => join(dir, component, n)).find(existsSync);
  if (pickled) refusePickle(pickled);
  throw new AppError('not-found', `${join(dir, component)} has no weights (${names.join(' or ')}).`);
}

export function openDiffusersFolder(dir: string): StableDiffusionModel {
  const index = readJson<{ _class_name?: string } | null>(join(dir, 'model_index.json'));
  const label = basename(dir);
  if (typeof index?._class_name === 'string' && /XL/i.test(index._class_name)) throw familyMessage('sdxl', dir);
  const config = <T extends Parameters<typeof checkConfig>[0]>(schema: T, component: string) => {
    const path = join(dir, component, 'config.json');
    return checkConfig(schema, readJson<unknown>(path), path);
  };
  const u = config(diffusersUNetConfig, 'unet');
  const t = config(diffusersTextConfig, 'text_encoder');
  const v = config(diffusersVaeConfig, 'vae');
  if (u.addition_embed_type === 'text_time' || u.cross_attention_dim === 2048) throw familyMessage('sdxl', dir);
  if (u.cross_attention_dim === 1024 || t.hidden_size === 1024) throw familyMessage('sd2', dir);
  const heads = Array.isArray(u.attention_head_dim) ? u.attention_head_dim[0]! : u.attention_head_dim;
  const unetConfig: UNetConfig = {
    sampleSize: u.sample_size ?? 64,
    inChannels: u.in_channels ?? 4,
    outChannels: u.out_channels ?? 4,
    blockOutChannels: u.block_out_channels,
    layersPerBlock: u.layers_per_block,
    attentionLevels: u.down_block_types.map((b) => b.startsWith('CrossAttn')),
    crossAttentionDim: u.cross_attention_dim,
    heads,
    normGroups: u.norm_num_groups ?? 32,
    normEps: u.norm_eps ?? 1e-5,
  };
  const textConfig: ClipTextConfig = {
    vocabSize: t.vocab_size,
    hiddenSize: t.hidden_size,
    intermediateSize: t.intermediate_size,
    layers: t.num_hidden_layers,
    heads: t.num_attention_heads,
    maxPositions: t.max_position_embeddings,
    eps: t.layer_norm_eps ?? 1e-5,
  };
  const vaeConfig: VaeConfig = {
    inChannels: v.in_channels ?? 3,
    latentChannels: v.latent_channels ?? 4,
    blockOutChannels: v.block_out_channels,
    layersPerBlock: v.layers_per_block,
    normGroups: v.norm_num_groups ?? 32,
    scalingFactor: v.scaling_factor ?? 0.18215,
  };
  const weights = ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors'];
  const tokenizerDir = join(dir, 'tokenizer');
  const tokenizer = existsSync(join(tokenizerDir, 'vocab.json')) ? folderTokenizer(tokenizerDir) : ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  return {
    label,
    format: 'diffusers',
    unet: { config: unetConfig, source: new SafetensorsSource(`${label}/unet`, [componentWeights(dir, 'unet', weights)]) },
    textEncoder: {
      config: textConfig,
      source: new SafetensorsSource(`${label}/text_encoder`, [componentWeights(dir, 'text_encoder', ['model.safetensors', 'model.fp16.safetensors'])]),
    },
    vae: { config: vaeConfig, source: new SafetensorsSource(`${label}/vae`, [componentWeights(dir, 'vae', weights)], (n) => [n, vaeLegacyAttentionKey(n)]) },
    tokenizer,
  };
}
