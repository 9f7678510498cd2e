import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { refuseNonFiniteWeights } from '../weights/check-architecture.js';
import { openStableDiffusion } from '../weights/sd-loader.js';
import { isLpipsOnnx, looksLikeLpips } from '../weights/metric-models.js';
import { openTaesd, taesdFormat } from '../weights/taesd-files.js';
import { MODEL_FAMILIES, type ModelFamily } from '../../src-preload/contract/models.js';
import { readSmallFileSync, regularFileSync } from '../common/regular-file.js';

export type InstalledFamily = ModelFamily;
export const FAMILIES: readonly InstalledFamily[] = MODEL_FAMILIES;

/**
 * What kind of model a path holds, checked as far as its files allow; throws with the reason otherwise.
 * `claimed` is the family the person named: an ONNX file says little about itself, so `lpips` is taken on their word.
 */
export function detectFamily(path: string, claimed?: InstalledFamily): { family: InstalledFamily; format: string } {
  if (!statSync(path).isDirectory()) regularFileSync(path, 'a model file or folder');
  if (path.endsWith('.onnx')) {
    if (isLpipsOnnx(path) || claimed === 'lpips') return { family: 'lpips', format: 'onnx' };
    throw new AppError(
      'unsupported-model',
      `${path}: a single .onnx file is read as an LPIPS export when its name says so (e.g. lpips_alex.onnx) or when added with --family lpips; other models come as folders or .safetensors.`,
    );
  }
  // LPIPS weights: lin layers and an AlexNet trunk, one file or a folder of them (no config.json)
  if (!existsSync(join(path, 'config.json')) && looksLikeLpips(path)) return { family: 'lpips', format: 'safetensors' };
  // TAESD: an AutoencoderTiny folder, or its files (diffusers' names, or the original taesd_decoder/encoder)
  const taesd = taesdFormat(path);
  if (taesd) {
    openTaesd(path); // refuses a TAESD for other latents, or files without its layers, saying why
    return { family: 'taesd', format: taesd };
  }
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'model_index.json'))) {
      refuseNonFiniteWeights(openStableDiffusion(path));
      return { family: 'sd1', format: 'diffusers' };
    }
    const configPath = join(path, 'config.json');
    if (existsSync(configPath)) {
      const config = JSON.parse(readSmallFileSync(configPath, 4 << 20, 'a JSON config').toString('utf8')) as { model_type?: string };
      const onnx = existsSync(join(path, 'onnx')) && readdirSync(join(path, 'onnx')).some((f) => f.endsWith('.onnx'));
      const format = onnx ? 'onnx-folder' : 'folder';
      if (config.model_type === 'grounding-dino') {
        if (!onnx)
          throw new AppError('unsupported-model', `${path} is a GroundingDINO folder without onnx/*.onnx; use the transformers.js (ONNX) export of the model.`);
        return { family: 'grounding-dino', format };
      }
      if (config.model_type === 'clip' || config.model_type === 'clip_vision_model') return { family: 'clip', format };
      if (config.model_type === 'dinov2' || config.model_type === 'vit') return { family: 'dino', format };
      throw new AppError(
        'unsupported-model',
        `${path} holds a "${config.model_type ?? 'unknown'}" model; SingleInsert Studio uses SD 1.x, GroundingDINO, CLIP, DINO, LPIPS and TAESD.`,
      );
    }
    throw new AppError('unsupported-model', `${path} is neither a diffusers folder (model_index.json) nor a model folder with config.json.`);
  }
  refuseNonFiniteWeights(openStableDiffusion(path));
  return { family: 'sd1', format: 'single-file' };
}
