// Opens the report card's metric networks from the folders and files users install: a Hugging Face CLIPModel
// folder, a DINO v1 ViTModel folder, and LPIPS weights (lpips' names, or torchvision AlexNet + lpips' lin
// layers). Only safetensors are read; pickles are refused with how to convert them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { readSmallFileSync } from '../common/regular-file.js';
import type { ClipModelConfig } from '../models/clip-embeddings.js';
import type { DinoVersion } from '../models/dino-vit.js';
import { SD15_CLIP_TEXT } from '../models/clip-text.js';
import { LPIPS_ALEX_LAYERS, type LpipsConfig } from '../models/lpips.js';
import type { WeightSource } from '../models/params.js';
import { CLIP_VIT_B32, type VisionTowerConfig } from '../models/vision.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { readSafetensorsHeader } from './safetensors.js';
import { BUNDLED_MERGES, refusePickle } from './sd-model.js';
import { SafetensorsSource } from './sources.js';

interface HfTowerConfig {
  model_type?: string;
  image_size?: number;
  patch_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  vocab_size?: number;
  max_position_embeddings?: number;
  eos_token_id?: number;
  qkv_bias?: boolean;
}

/** The .safetensors under `path` (a folder or one file), pickles refused. */
export function safetensorsFiles(path: string, what: string): string[] {
  if (!existsSync(path)) throw new AppError('not-found', `No ${what} at ${path}.`);
  if (!statSync(path).isDirectory()) {
    if (!path.endsWith('.safetensors')) refusePickle(path);
    return [path];
  }
  const entries = readdirSync(path);
  const files = entries.filter((f) => f.endsWith('.safetensors')).map((f) => join(path, f));
  if (files.length === 0) {
    const pickled = entries.find((f) => /\.(bin|pth|pt|ckpt)$/.test(f));
    if (pickled) refusePickle(join(path, pickled));
    throw new AppError('not-found', `${path} has no .safetensors weights for ${what}.`);
  }
  return files;
}

function readConfig(folder: string): (HfTowerConfig & Record<string, unknown>) | undefined {
  const file = join(folder, 'config.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readSmallFileSync(file, 4 << 20, 'a JSON config').toString('utf8')) as HfTowerConfig & Record<string, unknown>;
}

function towerConfig(hf: HfTowerConfig, defaults: VisionTowerConfig): VisionTowerConfig {
  return {
    imageSize: hf.image_size ?? defaults.imageSize,
    patchSize: hf.patch_size ?? defaults.patchSize,
    hiddenSize: hf.hidden_size ?? defaults.hiddenSize,
    intermediateSize: hf.intermediate_size ?? defaults.intermediateSize,
    layers: hf.num_hidden_layers ?? defaults.layers,
    heads: hf.num_attention_heads ?? defaults.heads,
    eps: hf.layer_norm_eps ?? defaults.eps,
  };
}

function refuseActivation(hf: HfTowerConfig, expected: string, what: string, path: string): void {
  if (hf.hidden_act !== undefined && hf.hidden_act !== expected) {
    throw new AppError('unsupported-model', `${basename(path)}: the ${what} uses hidden_act "${hf.hidden_act}"; only "${expected}" models are supported.`);
  }
}

export interface ClipModel {
  config: ClipModelConfig;
  source: WeightSource;
  tokenizer: ClipTokenizer;
  label: string;
}

/** A Hugging Face CLIPModel folder (config.json with text_config and vision_config, model.safetensors). */
export function openClipModel(path: string): ClipModel {
  const files = safetensorsFiles(path, 'a CLIP model');
  const folder = statSync(path).isDirectory() ? path : undefined;
  const raw = (folder && readConfig(folder)) || {};
  const textHf = (raw.text_config ?? {}) as HfTowerConfig;
  const visionHf = (raw.vision_config ?? {}) as HfTowerConfig;
  const source = new SafetensorsSource(basename(path), files.map(readSafetensorsHeader));
  const needs = [
    'vision_model.embeddings.patch_embedding.weight',
    'text_model.embeddings.token_embedding.weight',
    'visual_projection.weight',
    'text_projection.weight',
  ];
  const missing = needs.filter((k) => !source.has(k));
  if (missing.length > 0) {
    throw new AppError(
      'unsupported-model',
      `${basename(path)} is not a full CLIP model (missing ${missing.join(', ')}); the report card needs both towers and their projections, as in openai/clip-vit-base-patch32.`,
    );
  }
  refuseActivation(textHf, 'quick_gelu', 'text tower', path);
  refuseActivation(visionHf, 'quick_gelu', 'vision tower', path);
  const vision = towerConfig(visionHf, CLIP_VIT_B32);
  const tokenEmbedding = source.shapeOf('text_model.embeddings.token_embedding.weight')!;
  const text = {
    vocabSize: textHf.vocab_size ?? tokenEmbedding[0]!,
    hiddenSize: textHf.hidden_size ?? tokenEmbedding[1]!,
    intermediateSize: textHf.intermediate_size ?? 2048,
    layers: textHf.num_hidden_layers ?? 12,
    heads: textHf.num_attention_heads ?? 8,
    maxPositions: textHf.max_position_embeddings ?? SD15_CLIP_TEXT.maxPositions,
    eps: textHf.layer_norm_eps ?? SD15_CLIP_TEXT.eps,
  };
  const projectionDim = (raw.projection_dim as number | undefined) ?? source.shapeOf('visual_projection.weight')![0]!;
  const tokenizer =
    folder && existsSync(join(folder, 'vocab.json')) && existsSync(join(folder, 'merges.txt'))
      ? ClipTokenizer.fromVocabAndMerges(
          readSmallFileSync(join(folder, 'vocab.json'), 16 << 20, 'a tokenizer vocabulary').toString('utf8'),
          readSmallFileSync(join(folder, 'merges.txt'), 16 << 20, 'a BPE merges file').toString('utf8'),
        )
      : ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  // CLIP's checkpoints say eos_token_id 2 in their configs but pool at the tokenizer's end token (49407): trust the tokenizer.
  const eosTokenId = text.vocabSize === tokenizer.vocabSize ? tokenizer.endId : (textHf.eos_token_id ?? tokenizer.endId);
  return { config: { vision, text, projectionDim, eosTokenId }, source, tokenizer, label: basename(path) };
}

export interface DinoModel {
  config: VisionTowerConfig;
  version: DinoVersion;
  source: WeightSource;
  /** What the report states: "DINO v1 ViT-S/16", "DINOv2 ViT-S/14 at 518²". */
  description: string;
}

/**
 * A DINO folder as transformers stores it: v1 (config.json model_type "vit", ViTModel weights) or v2 (model_type
 * "dinov2", Dinov2Model weights; run at its stored image size, so its position embeddings are used as trained).
 */
export function openDino(path: string): DinoModel {
  const files = safetensorsFiles(path, 'a DINO model');
  const hf = ((statSync(path).isDirectory() && readConfig(path)) || {}) as HfTowerConfig & {
    use_swiglu_ffn?: boolean;
    num_register_tokens?: number;
    mlp_ratio?: number;
  };
  const version: DinoVersion = hf.model_type === 'dinov2' || hf.model_type === 'dinov2_with_registers' ? 2 : 1;
  if (hf.use_swiglu_ffn)
    throw new AppError('unsupported-model', `${basename(path)} is DINOv2 with a SwiGLU MLP (ViT-g); use dinov2-small, -base or -large, or DINO v1.`);
  if (hf.model_type === 'dinov2_with_registers' || (hf.num_register_tokens ?? 0) > 0) {
    throw new AppError('unsupported-model', `${basename(path)} is DINOv2 with registers; use facebook/dinov2-small (or DINO v1, facebook/dino-vits16).`);
  }
  if (hf.qkv_bias === false) throw new AppError('unsupported-model', `${basename(path)}: ViTs without query/key/value biases are not supported.`);
  refuseActivation(hf, 'gelu', 'DINO ViT', path);
  const raw = new SafetensorsSource(basename(path), files.map(readSafetensorsHeader));
  // checkpoints are stored bare or under the model's prefix (ViTForImageClassification's "vit.", "dinov2.")
  const prefix = raw.has('embeddings.cls_token') ? '' : version === 2 ? 'dinov2.' : 'vit.';
  const source = prefix ? new SafetensorsSource(basename(path), files.map(readSafetensorsHeader), (n) => `${prefix}${n}`) : raw;
  if (!source.has('embeddings.cls_token') || !source.has('embeddings.patch_embeddings.projection.weight')) {
    throw new AppError('unsupported-model', `${basename(path)} has no ViT weights (embeddings.cls_token, embeddings.patch_embeddings.*).`);
  }
  const patch = source.shapeOf('embeddings.patch_embeddings.projection.weight')!;
  const positions = source.shapeOf('embeddings.position_embeddings')!;
  const patchSize = hf.patch_size ?? patch[2]!;
  const grid = Math.round(Math.sqrt(positions[1]! - 1));
  const hidden = hf.hidden_size ?? patch[0]!;
  const config: VisionTowerConfig = {
    // v2 is stored for 518² but its processor crops 224 and interpolates positions; running at the stored grid keeps them exact
    imageSize: version === 2 ? grid * patchSize : (hf.image_size ?? grid * patchSize),
    patchSize,
    hiddenSize: hidden,
    intermediateSize: version === 2 ? hidden * (hf.mlp_ratio ?? 4) : (hf.intermediate_size ?? 4 * hidden),
    layers: hf.num_hidden_layers ?? 12,
    heads: hf.num_attention_heads ?? 6,
    eps: hf.layer_norm_eps ?? (version === 2 ? 1e-6 : 1e-12),
  };
  const size = ({ 384: 'S', 768: 'B', 1024: 'L' } as Record<number, string>)[hidden] ?? `${hidden}-wide`;
  const description = version === 1 ? `DINO v1 ViT-${size}/${patchSize}` : `DINOv2 ViT-${size}/${patchSize} at ${config.imageSize}²`;
  return { config, version, source, description };
}

export type LpipsModel =
  | { format: 'safetensors'; config: LpipsConfig; source: WeightSource; description: string }
  /** An LPIPS network exported to ONNX (lpips' model through torch.onnx.export): two [N, 3, H, W] images in [−1, 1] → the distance. */
  | { format: 'onnx'; path: string; description: string };

/** An ONNX file the model manager reads as LPIPS without being told: its name says so. */
export const isLpipsOnnx = (path: string) => path.endsWith('.onnx') && /lpips/i.test(basename(path));

/**
 * LPIPS: a .safetensors (or a folder of them) holding lin0…lin4 and an AlexNet trunk, under lpips' own names
 * (net.sliceK.N.*) or torchvision's (features.N.*, e.g. alexnet's weights saved beside lpips' alex.pth); or an
 * ONNX export of the whole network.
 */
export function openLpips(path: string): LpipsModel {
  if (path.endsWith('.onnx')) {
    if (!existsSync(path)) throw new AppError('not-found', `No LPIPS model at ${path}.`);
    return { format: 'onnx', path, description: `LPIPS (ONNX export ${basename(path)})` };
  }
  const files = safetensorsFiles(path, 'LPIPS weights').map(readSafetensorsHeader);
  const lpipsName = (k: number) => `net.slice${k + 1}.${LPIPS_ALEX_LAYERS[k]!.index}`;
  const probe = new SafetensorsSource(basename(path), files);
  const torchvision = !probe.has(`${lpipsName(0)}.weight`) && probe.has('features.0.weight');
  const keyOf = (name: string): string => {
    if (!torchvision) return name;
    const m = /^net\.slice(\d)\.(\d+)\.(weight|bias)$/.exec(name);
    return m ? `features.${m[2]}.${m[3]}` : name;
  };
  const source = new SafetensorsSource(basename(path), files, keyOf);
  const missing = [...LPIPS_ALEX_LAYERS.map((_, k) => `${lpipsName(k)}.weight`), ...LPIPS_ALEX_LAYERS.map((_, k) => `lin${k}.model.1.weight`)].filter(
    (k) => !source.has(k),
  );
  if (missing.length > 0) {
    const hint = probe.has('features.0.weight') || probe.has(`${lpipsName(0)}.weight`) ? '' : ' (is it a VGG or SqueezeNet LPIPS? only AlexNet is supported)';
    throw new AppError(
      'unsupported-model',
      `${basename(path)} is not LPIPS-AlexNet weights: missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}${hint}. ` +
        'Convert lpips’ alex.pth and torchvision’s alexnet weights to one .safetensors (lpips’ names, or features.N + linK.model.1).',
    );
  }
  const channels = LPIPS_ALEX_LAYERS.map((_, k) => source.shapeOf(`${lpipsName(k)}.weight`)![0]!) as unknown as LpipsConfig['channels'];
  return { format: 'safetensors', config: { channels }, source, description: 'LPIPS (AlexNet, lpips v0.1 formula)' };
}

/** Whether `path` holds LPIPS weights (for the model manager's family detection). */
export function looksLikeLpips(path: string): boolean {
  try {
    const files = safetensorsFiles(path, 'LPIPS weights').map(readSafetensorsHeader);
    return new SafetensorsSource(basename(path), files).has('lin0.model.1.weight');
  } catch {
    return false;
  }
}
