// Opens a Stable Diffusion 1.x model as users have it: a diffusers folder or a single .safetensors file.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import { type ClipTextConfig, SD15_CLIP_TEXT } from '../models/clip-text.js';
import type { WeightSource } from '../models/params.js';
import { SD15_UNET, type UNetConfig } from '../models/unet.js';
import { SD15_VAE, type VaeConfig } from '../models/vae.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { textKeyToLdm, unetKeyToLdm, vaeKeyToLdm, vaeLegacyAttentionKey } from './ldm-keys.js';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.js';
import { SafetensorsSource } from './sources.js';
import { readSmallFileSync } from '../common/regular-file.js';
import { checkArchitecture } from './check-architecture.js';
import { checkConfig, diffusersTextConfig, diffusersUNetConfig, diffusersVaeConfig } from './diffusers-configs.js';

/** Configs are a few kB, CLIP's vocabulary and merges about 1 MB each. */
const MAX_CONFIG_BYTES = 4 << 20;
const MAX_VOCAB_BYTES = 16 << 20;

export type ModelFamily = 'sd1' | 'sd2' | 'sdxl' | 'unknown';

export interface StableDiffusionModel {
  label: string;
  format: 'diffusers' | 'single-file';
  unet: { config: UNetConfig; source: WeightSource };
  textEncoder: { config: ClipTextConfig; source: WeightSource };
  vae: { config: VaeConfig; source: WeightSource };
  tokenizer: ClipTokenizer;
}

export const BUNDLED_MERGES = join(PROJECT_ROOT, 'resources', 'clip', 'bpe_simple_vocab_16e6.txt.gz');
const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

export function refusePickle(path: string): never {
  throw new AppError(
    'unsupported-model',
    `${basename(path)} is a pickle checkpoint, which can run arbitrary code when it is opened, so SingleInsert Studio does not read it. ` +
      'Download the .safetensors version of this model, or convert the file to .safetensors with a tool you trust on a machine you do not mind exposing.',
  );
}

function familyMessage(family: ModelFamily, path: string): AppError {
  const what = family === 'sd2' ? 'Stable Diffusion 2.x (1024-wide OpenCLIP text encoder)' : family === 'sdxl' ? 'Stable Diffusion XL' : 'not a Stable Diffusion checkpoint';
  return new AppError('unsupported-model', `${basename(path)} is ${what}. SingleInsert Studio works with Stable Diffusion 1.x models (1.4, 1.5 and their fine-tunes).`);
}

/** Opens and checks a model; throws a clear AppError for pickles, other families and broken files. */
export function openStableDiffusion(path: string): StableDiffusionModel {
  if (!existsSync(path)) throw new AppError('not-found', `No model at ${path}.`);
  const model = statSync(path).isDirectory() ? openDiffusersFolder(path) : openFile(path);
  checkArchitecture(model);
  return model;
}

function openFile(path: string): StableDiffusionModel {
  if (PICKLE_EXTENSIONS.has(extname(path).toLowerCase()) || looksLikePickle(path)) refusePickle(path);
  if (extname(path).toLowerCase() !== '.safetensors') {
    throw new AppError('unsupported-model', `${basename(path)} is not a .safetensors file or a diffusers folder.`);
  }
  return openSingleFile(path);
}

function looksLikePickle(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return (head[0] === 0x80 && head[1]! <= 5) || (head[0] === 0x50 && head[1] === 0x4b); // pickle protocol, or torch's zip
  } finally {
    closeSync(fd);
  }
}

// 1. Single files (LDM key names)

export function detectSingleFileFamily(file: SafetensorsFile): ModelFamily {
  const keys = [...file.tensors.keys()];
  if (keys.some((k) => k.startsWith('conditioner.embedders.'))) return 'sdxl';
  if (keys.some((k) => k.startsWith('cond_stage_model.model.'))) return 'sd2';
  const toK = file.tensors.get('model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight');
  if (toK && toK.shape[1] === 1024) return 'sd2';
  if (keys.some((k) => k.startsWith('model.diffusion_model.')) && keys.some((k) => k.startsWith('cond_stage_model.transformer.'))) return 'sd1';
  return 'unknown';
}

/**
 * Reads a single file's architecture from its tensor shapes (fine-tunes keep SD 1.x's, test
 * models are smaller). Head counts and group counts cannot be seen in shapes: SD 1.x's are used.
 */
/** A tensor's shape if it has the rank its role needs; a line naming it otherwise. */
function ranked(file: SafetensorsFile, key: string, shape: readonly number[], rank: number, what: string): readonly number[] {
  if (shape.length !== rank || shape.some((d) => d < 1)) throw new AppError('corrupt-file', `${basename(file.path)}: ${key} has shape [${shape.join(', ')}], not ${what}.`);
  return shape;
}

export function inferSingleFileConfigs(file: SafetensorsFile): { unet: UNetConfig; text: ClipTextConfig; vae: VaeConfig } {
  const shape = (key: string) => file.tensors.get(key)?.shape;
  const need = (key: string) => {
    const s = shape(key);
    if (!s) throw new AppError('corrupt-file', `${basename(file.path)} lacks ${key}; it is not a complete SD 1.x checkpoint.`);
    return s;
  };
  const u = 'model.diffusion_model.';
  // UNet: walk input_blocks: resnets (with or without attention) grouped by downsamplers
  const levels: Array<{ channels: number; attention: boolean; layers: number }> = [{ channels: 0, attention: false, layers: 0 }];
  for (let k = 1; shape(`${u}input_blocks.${k}.0.op.weight`) || shape(`${u}input_blocks.${k}.0.out_layers.3.weight`); k++) {
    if (shape(`${u}input_blocks.${k}.0.op.weight`)) {
      levels.push({ channels: 0, attention: false, layers: 0 });
      continue;
    }
    const level = levels[levels.length - 1]!;
    level.channels = need(`${u}input_blocks.${k}.0.out_layers.3.weight`)[0]!;
    level.attention ||= shape(`${u}input_blocks.${k}.1.proj_in.weight`) !== undefined;
    level.layers++;
  }
  const firstAttention = [...file.tensors.keys()].find((key) => key.startsWith(u) && key.endsWith('attn2.to_k.weight'));
  const convIn = ranked(file, `${u}input_blocks.0.0.weight`, need(`${u}input_blocks.0.0.weight`), 4, "a convolution's [out, in, k, k]");
  ranked(file, `${u}out.2.weight`, need(`${u}out.2.weight`), 4, "a convolution's [out, in, k, k]");
  if (levels.some((l) => l.channels === 0) || levels[0]!.layers === 0) throw new AppError('corrupt-file', `${basename(file.path)} has no UNet down blocks (model.diffusion_model.input_blocks.*); it is not a complete SD 1.x checkpoint.`);
  const unet: UNetConfig = {
    ...SD15_UNET,
    inChannels: convIn[1]!,
    outChannels: need(`${u}out.2.weight`)[0]!,
    blockOutChannels: levels.map((l) => l.channels),
    layersPerBlock: levels[0]!.layers,
    attentionLevels: levels.map((l) => l.attention),
    crossAttentionDim: firstAttention ? need(firstAttention)[1]! : SD15_UNET.crossAttentionDim,
  };
  // Text encoder
  const t = (name: string) => textKeyToLdm(name).map(shape).find(Boolean);
  const embedding = t('text_model.embeddings.token_embedding.weight');
  if (!embedding) throw new AppError('corrupt-file', `${basename(file.path)} has no text encoder token embedding.`);
  ranked(file, 'text_model.embeddings.token_embedding.weight', embedding, 2, "a token embedding's [vocabulary, width]");
  let layers = 0;
  while (t(`text_model.encoder.layers.${layers}.mlp.fc1.weight`)) layers++;
  if (layers === 0) throw new AppError('corrupt-file', `${basename(file.path)} has no text encoder layers (cond_stage_model…encoder.layers.*); it is not a complete SD 1.x checkpoint.`);
  ranked(file, 'text_model.encoder.layers.0.mlp.fc1.weight', t('text_model.encoder.layers.0.mlp.fc1.weight')!, 2, "a linear layer's [out, in]");
  const text: ClipTextConfig = {
    ...SD15_CLIP_TEXT,
    vocabSize: embedding[0]!,
    hiddenSize: embedding[1]!,
    intermediateSize: t('text_model.encoder.layers.0.mlp.fc1.weight')![0]!,
    layers,
    maxPositions: t('text_model.embeddings.position_embedding.weight')?.[0] ?? 77,
  };
  // VAE
  const v = 'first_stage_model.encoder.down.';
  const vaeChannels: number[] = [];
  while (shape(`${v}${vaeChannels.length}.block.0.conv1.weight`)) vaeChannels.push(need(`${v}${vaeChannels.length}.block.0.conv1.weight`)[0]!);
  let vaeLayers = 0;
  while (shape(`${v}0.block.${vaeLayers}.conv1.weight`)) vaeLayers++;
  const vae: VaeConfig = {
    ...SD15_VAE,
    blockOutChannels: vaeChannels,
    layersPerBlock: vaeLayers,
    latentChannels: need('first_stage_model.post_quant_conv.weight')[0]!,
  };
  return { unet, text, vae };
}

function openSingleFile(path: string): StableDiffusionModel {
  const file = readSafetensorsHeader(path);
  const family = detectSingleFileFamily(file);
  if (family !== 'sd1') throw familyMessage(family, path);
  const label = basename(path);
  const configs = inferSingleFileConfigs(file);
  const unetConfig = configs.unet;
  const vaeConfig = configs.vae;
  return {
    label,
    format: 'single-file',
    unet: { config: unetConfig, source: new SafetensorsSource(`${label} (UNet)`, [file], (n) => unetKeyToLdm(n, unetConfig) ?? `?${n}`) },
    textEncoder: { config: configs.text, source: new SafetensorsSource(`${label} (text encoder)`, [file], textKeyToLdm) },
    vae: { config: vaeConfig, source: new SafetensorsSource(`${label} (VAE)`, [file], (n) => vaeKeyToLdm(n, vaeConfig) ?? `?${n}`) },
    tokenizer: ClipTokenizer.fromMergesFile(BUNDLED_MERGES),
  };
}

// 2. Diffusers folders

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


function openDiffusersFolder(dir: string): StableDiffusionModel {
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
    textEncoder: { config: textConfig, source: new SafetensorsSource(`${label}/text_encoder`, [componentWeights(dir, 'text_encoder', ['model.safetensors', 'model.fp16.safetensors'])]) },
    vae: { config: vaeConfig, source: new SafetensorsSource(`${label}/vae`, [componentWeights(dir, 'vae', weights)], (n) => [n, vaeLegacyAttentionKey(n)]) },
    tokenizer,
  };
}
