// Opens a CLIP vision model (Hugging Face CLIPVisionModel or CLIPModel folder, or a single .safetensors).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import type { WeightSource } from '../models/params.js';
import { CLIP_VIT_B32, type VisionConfig } from '../models/vision.js';
import { readSafetensorsHeader } from './safetensors.js';
import { refusePickle } from './sd-model.js';
import { SafetensorsSource } from './sources.js';
import { readSmallFileSync } from '../common/regular-file.js';

interface HfVisionConfig {
  image_size?: number;
  patch_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  layer_norm_eps?: number;
}

export function openClipVision(path: string, tokenDim: number): { config: VisionConfig; source: WeightSource } {
  if (!existsSync(path)) throw new AppError('not-found', `No CLIP model at ${path}.`);
  let files: string[];
  let hf: HfVisionConfig = {};
  if (statSync(path).isDirectory()) {
    files = readdirSync(path)
      .filter((f) => f.endsWith('.safetensors'))
      .map((f) => join(path, f));
    if (files.length === 0) {
      const pickled = readdirSync(path).find((f) => f.endsWith('.bin'));
      if (pickled) refusePickle(join(path, pickled));
      throw new AppError('not-found', `${path} has no .safetensors weights.`);
    }
    if (existsSync(join(path, 'config.json'))) {
      const raw = JSON.parse(readSmallFileSync(join(path, 'config.json'), 4 << 20, 'a JSON config').toString('utf8')) as HfVisionConfig & {
        vision_config?: HfVisionConfig;
      };
      hf = raw.vision_config ?? raw;
    }
  } else {
    if (!path.endsWith('.safetensors')) refusePickle(path);
    files = [path];
  }
  const source = new SafetensorsSource(basename(path), files.map(readSafetensorsHeader));
  if (!source.has('vision_model.embeddings.patch_embedding.weight')) {
    throw new AppError('unsupported-model', `${basename(path)} has no CLIP vision tower (vision_model.* weights).`);
  }
  const config: VisionConfig = {
    imageSize: hf.image_size ?? CLIP_VIT_B32.imageSize,
    patchSize: hf.patch_size ?? CLIP_VIT_B32.patchSize,
    hiddenSize: hf.hidden_size ?? CLIP_VIT_B32.hiddenSize,
    intermediateSize: hf.intermediate_size ?? CLIP_VIT_B32.intermediateSize,
    layers: hf.num_hidden_layers ?? CLIP_VIT_B32.layers,
    heads: hf.num_attention_heads ?? CLIP_VIT_B32.heads,
    eps: hf.layer_norm_eps ?? CLIP_VIT_B32.eps,
    tokenDim,
  };
  return { config, source };
}
