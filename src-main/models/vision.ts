// SingleInsert's image encoder: CLIP's ViT (B/32 at 224 px) and a projection of its pooled
// output to one token embedding, the concept's `*`.
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import { checkVisionConfig, checkVisionTowerConfig } from './config-check.js';
import { type ClipEncoderConfig, clipEncoder, layerNormLayer, linearLayer } from './layers.js';
import type { ParamFactory } from './params.js';

/** A ViT's shape: the transformer stack, the image it takes and its patches (CLIP's and DINO's towers alike). */
export interface VisionTowerConfig extends ClipEncoderConfig {
  imageSize: number;
  patchSize: number;
}

export interface VisionConfig extends VisionTowerConfig {
  /** Width of the token embedding the encoder produces (SD 1.x's text width). */
  tokenDim: number;
  /**
   * A bias on the projection to the token. SingleInsert's `proj` is a bare matrix (as CLIP's own visual
   * projection), so it is off unless set: only runs begun before the app followed that keep one.
   */
  projectionBias?: boolean;
}

export const CLIP_VIT_B32: VisionConfig = {
  imageSize: 224,
  patchSize: 32,
  hiddenSize: 768,
  intermediateSize: 3072,
  layers: 12,
  heads: 12,
  eps: 1e-5,
  tokenDim: 768,
};

/** CLIP's normalisation of RGB in [0, 1]. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** The vision tower's pooled output: the class token after post_layernorm, [B, hidden]. */
export function clipVisionPooled(p: ParamFactory, cfg: VisionTowerConfig, pixels: Tensor): Tensor {
  checkVisionTowerConfig(cfg);
  const g = pixels.graph;
  const b = pixels.shape[0]!;
  const d = cfg.hiddenSize;
  const grid = cfg.imageSize / cfg.patchSize;
  const tokens = grid * grid + 1;
  return g.scope('vision_model', () => {
    // 1. Patches + class token + positions
    let h = g.scope('embeddings', () => {
      const patches = op.conv2d(
        pixels,
        g.scope('patch_embedding', () => p.weight('weight', [d, 3, cfg.patchSize, cfg.patchSize])),
        null,
        { stride: cfg.patchSize },
      );
      const seq = op.transpose(op.reshape(patches, [b, d, grid * grid]), [0, 2, 1]);
      const cls = op.expand(op.reshape(p.weight('class_embedding', [d]), [1, 1, d]), [b, 1, d]);
      return op.add(
        op.concat([cls, seq], 1),
        g.scope('position_embedding', () => p.weight('weight', [tokens, d])),
      );
    });
    h = layerNormLayer(p, 'pre_layrnorm', h, cfg.eps); // sic: the checkpoint's name
    // 2. Encoder layers (no causal mask)
    h = clipEncoder(p, h, cfg, null);
    // 3. Pool: the class token
    return layerNormLayer(p, 'post_layernorm', op.reshape(op.slice(h, 1, 0, 1), [b, d]), cfg.eps);
  });
}

/**
 * Photo [B, 3, S, S] (CLIP-normalised) → one token embedding per image [B, 1, tokenDim].
 * `mapper` holds the projection SingleInsert trains (its own weights, not CLIP's): a bare matrix, as in
 * SingleInsert's code, so the gradient norm that clipping sees is the official one.
 */
export function imageEncoder(vision: ParamFactory, mapper: ParamFactory, cfg: VisionConfig, pixels: Tensor): Tensor {
  checkVisionConfig(cfg);
  const pooled = clipVisionPooled(vision, cfg, pixels);
  const token = pixels.graph.scope('mapper', () => linearLayer(mapper, 'proj', pooled, cfg.hiddenSize, cfg.tokenDim, cfg.projectionBias ?? false));
  return op.reshape(token, [pixels.shape[0]!, 1, cfg.tokenDim]);
}
