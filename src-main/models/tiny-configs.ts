// Small configurations with SD 1.x's architecture: the tests' and the CLI's quick models.
import type { ClipTextConfig } from './clip-text.js';
import type { TaesdConfig } from './taesd.js';
import type { UNetConfig } from './unet.js';
import type { VaeConfig } from './vae.js';

export const TINY_UNET: UNetConfig = {
  sampleSize: 8,
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [32, 64],
  layersPerBlock: 1,
  attentionLevels: [true, false],
  crossAttentionDim: 48,
  // heads and groups as in SD 1.x: single files carry no config, and these cannot be read from shapes
  heads: 8,
  normGroups: 32,
  normEps: 1e-5,
};

export const TINY_CLIP_TEXT: ClipTextConfig = {
  vocabSize: 49408,
  hiddenSize: 48,
  intermediateSize: 96,
  layers: 2,
  heads: 12,
  maxPositions: 77,
  eps: 1e-5,
};

export const TINY_VAE: VaeConfig = {
  inChannels: 3,
  latentChannels: 4,
  blockOutChannels: [32, 64],
  layersPerBlock: 1,
  normGroups: 32,
  scalingFactor: 0.18215,
};

/** TAESD with as many levels as TINY_VAE (latents ×2), so its images are the size the tiny VAE draws. */
export const TINY_TAESD: TaesdConfig = {
  inChannels: 3,
  outChannels: 3,
  latentChannels: 4,
  encoderBlockOutChannels: [8, 8],
  decoderBlockOutChannels: [8, 8],
  numEncoderBlocks: [1, 1],
  numDecoderBlocks: [1, 1],
  scalingFactor: 1,
};
