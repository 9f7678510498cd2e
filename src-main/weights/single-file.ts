// Single-file SD 1.x checkpoints (LDM key names, as A1111 and ComfyUI keep them): family, configs, weights.
import { basename } from 'node:path';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { textKeyToLdm, unetKeyToLdm, vaeKeyToLdm } from './ldm-keys.js';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.js';
import { BUNDLED_MERGES, familyMessage, type ModelFamily, type StableDiffusionModel } from './sd-model.js';
import { inferSingleFileConfigs } from './single-file-configs.js';
import { SafetensorsSource } from './sources.js';

export function detectSingleFileFamily(file: SafetensorsFile): ModelFamily {
  const keys = [...file.tensors.keys()];
  if (keys.some((k) => k.startsWith('conditioner.embedders.'))) return 'sdxl';
  if (keys.some((k) => k.startsWith('cond_stage_model.model.'))) return 'sd2';
  const toK = file.tensors.get('model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight');
  if (toK && toK.shape[1] === 1024) return 'sd2';
  if (keys.some((k) => k.startsWith('model.diffusion_model.')) && keys.some((k) => k.startsWith('cond_stage_model.transformer.'))) return 'sd1';
  return 'unknown';
}

/** The model a single file's header describes (no tensor is read). */
export function singleFileModel(file: SafetensorsFile): StableDiffusionModel {
  const family = detectSingleFileFamily(file);
  if (family !== 'sd1') throw familyMessage(family, file.path);
  const label = basename(file.path);
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

export const openSingleFile = (path: string): StableDiffusionModel => singleFileModel(readSafetensorsHeader(path));
