// Writes a small SD 1.x-architecture model with deterministic random weights, in both formats users have:
// a diffusers folder and a single-file LDM .safetensors. The real loading code is then tested on them.
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../src-main/models/tiny-configs.js';
import {
  type SdConfigs,
  sdWeights,
  type WeightFill,
  writeClipVisionFolder,
  writeDiffusersFolder,
  writeSingleFileCheckpoint,
} from '../../src-main/weights/random-checkpoint.js';
import { RandomSource } from '../../src-main/weights/sources.js';
import type { ClipModelConfig } from '../../src-main/models/clip-embeddings.js';
import { writeClipModelFolder, writeDinoFolder, writeLpipsFile } from '../../src-main/weights/random-metric-models.js';

const random = new RandomSource(3);
/** RandomSource's values; biases and norm offsets get small values too, so a wrong mapping cannot hide behind zeros. */
const fill: WeightFill = (name, shape) => {
  const data = random.load(name, 'float32', shape) as Float32Array;
  if (name.endsWith('bias')) data.forEach((_, i) => (data[i] = 0.01 * Math.sin(i + name.length)));
  return data;
};

const TINY: SdConfigs = { unet: TINY_UNET, text: TINY_CLIP_TEXT, vae: TINY_VAE };

export const tinyWeights = () => sdWeights(TINY, fill);

export const writeTinyDiffusers = (dir: string): string => writeDiffusersFolder(dir, TINY, tinyWeights());

export const writeTinySingleFile = (path: string): string => writeSingleFileCheckpoint(path, TINY, tinyWeights());

/** The tiny model as an inpainting checkpoint has it: a UNet of 9 input channels (latents, mask, masked image). */
export const writeTinyInpaintingFile = (path: string): string => {
  const configs: SdConfigs = { ...TINY, unet: { ...TINY_UNET, inChannels: 9 } };
  return writeSingleFileCheckpoint(path, configs, sdWeights(configs, fill));
};

/** A tiny CLIP vision model folder (HF CLIPVisionModel layout: config.json + model.safetensors). */
export const writeTinyClipVision = (dir: string): string =>
  writeClipVisionFolder(
    dir,
    { imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 12, eps: 1e-5, tokenDim: TINY_CLIP_TEXT.hiddenSize },
    fill,
  );

/** The report card's metric networks, small and random: a CLIP model with CLIP's whole vocabulary, DINO v1, LPIPS-AlexNet. */
export const TINY_METRIC_CLIP: ClipModelConfig = {
  vision: { imageSize: 32, patchSize: 8, hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 4, eps: 1e-5 },
  text: { ...TINY_CLIP_TEXT, hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 4 },
  projectionDim: 16,
  eosTokenId: 49407,
};
export const writeTinyClipModel = (dir: string) => writeClipModelFolder(dir, TINY_METRIC_CLIP, fill);
export const writeTinyDino = (dir: string) =>
  writeDinoFolder(dir, { imageSize: 32, patchSize: 8, hiddenSize: 24, intermediateSize: 48, layers: 1, heads: 3, eps: 1e-6 }, fill);
export const writeTinyLpips = (path: string) => writeLpipsFile(path, { channels: [8, 12, 16, 12, 12] }, fill);
