// CLIP's joint embedding space (transformers' CLIPModel): image_embeds and text_embeds, the two towers'
// pooled outputs through their bias-free projections. The report card compares images with these.
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import { type ClipTextConfig, clipTextEncoder } from './clip-text.js';
import { linearLayer } from './layers.js';
import type { ParamFactory } from './params.js';
import { clipVisionPooled, type VisionTowerConfig } from './vision.js';

export interface ClipModelConfig {
  vision: VisionTowerConfig;
  text: ClipTextConfig;
  /** Width of the shared space (512 for ViT-B/32). */
  projectionDim: number;
  /** The end-of-text token: the text is pooled at its first occurrence. */
  eosTokenId: number;
}

/** Pixels [B, 3, S, S] (CLIP-normalised) → image_embeds [B, projectionDim] (not unit-normalised). */
export function clipImageEmbeds(p: ParamFactory, cfg: ClipModelConfig, pixels: Tensor): Tensor {
  const pooled = clipVisionPooled(p, cfg.vision, pixels);
  return linearLayer(p, 'visual_projection', pooled, cfg.vision.hiddenSize, cfg.projectionDim, false);
}

/**
 * Token ids [B, 77] and `eos` [B, 77], one-hot at each row's first end-of-text token → text_embeds [B, projectionDim].
 * The one-hot is a feed (tokenizer.ts knows where the token is) so pooling is one matmul.
 */
export function clipTextEmbeds(p: ParamFactory, cfg: ClipModelConfig, inputIds: Tensor, eos: Tensor): Tensor {
  const states = clipTextEncoder(p, cfg.text, { inputIds });
  const [b, n] = inputIds.shape as [number, number];
  const pooled = op.reshape(op.matmul(op.reshape(eos, [b, 1, n]), states), [b, cfg.text.hiddenSize]);
  return linearLayer(p, 'text_projection', pooled, cfg.text.hiddenSize, cfg.projectionDim, false);
}
