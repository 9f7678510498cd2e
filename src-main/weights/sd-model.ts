// What a Stable Diffusion 1.x model is once opened, whatever its file layout, and the refusals every layout shares.
import { basename, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { ClipTextConfig } from '../models/clip-text.js';
import type { WeightSource } from '../models/params.js';
import type { UNetConfig } from '../models/unet.js';
import type { VaeConfig } from '../models/vae.js';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';

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

export function refusePickle(path: string): never {
  throw new AppError(
    'unsupported-model',
    `${basename(path)} is a pickle checkpoint, which can run arbitrary code when it is opened, so SingleInsert Studio does not read it. ` +
      'Download the .safetensors version of this model, or convert the file to .safetensors with a tool you trust on a machine you do not mind exposing.',
  );
}

export function familyMessage(family: ModelFamily, path: string): AppError {
  const what =
    family === 'sd2'
      ? 'Stable Diffusion 2.x (1024-wide OpenCLIP text encoder)'
      : family === 'sdxl'
        ? 'Stable Diffusion XL'
        : 'not a Stable Diffusion checkpoint';
  return new AppError(
    'unsupported-model',
    `${basename(path)} is ${what}. SingleInsert Studio works with Stable Diffusion 1.x models (1.4, 1.5 and their fine-tunes).`,
  );
}
