// CLIP's text tower (SD 1.x: ViT-L/14 text transformer), with placeholder rows replaced at run time.
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import { checkClipTextConfig } from './config-check.js';
import { type ClipEncoderConfig, clipEncoder, layerNormLayer } from './layers.js';
import type { ParamFactory } from './params.js';

export interface ClipTextConfig extends ClipEncoderConfig {
  vocabSize: number;
  maxPositions: number;
}

export const SD15_CLIP_TEXT: ClipTextConfig = {
  vocabSize: 49408,
  hiddenSize: 768,
  intermediateSize: 3072,
  layers: 12,
  heads: 12,
  maxPositions: 77,
  eps: 1e-5,
};

export interface ClipTextInputs {
  /** Token ids [B, 77] (int64). */
  inputIds: Tensor;
  /**
   * Concept embeddings to put in place of placeholder tokens: `embeds` [B, P, hidden] and a
   * one-hot `mask` [B, 77, P] saying which position takes which embedding. Gradients flow into `embeds`.
   */
  placeholders?: { embeds: Tensor; mask: Tensor };
}

/** The last hidden state [B, 77, hidden] after the final layer norm, as SD conditions on. */
export function clipTextEncoder(p: ParamFactory, cfg: ClipTextConfig, { inputIds, placeholders }: ClipTextInputs): Tensor {
  checkClipTextConfig(cfg);
  const g = inputIds.graph;
  const n = inputIds.shape[1]!;
  const d = cfg.hiddenSize;
  return g.scope('text_model', () => {
    // 1. Embeddings, with concept rows swapped in
    let h = g.scope('embeddings', () => {
      let tokens = op.gather(
        g.scope('token_embedding', () => p.weight('weight', [cfg.vocabSize, d])),
        inputIds,
      );
      if (placeholders) {
        const taken = op.reduceSum(placeholders.mask, [2], true); // 1 where a placeholder goes
        tokens = op.add(op.mul(tokens, op.sub(1, taken)), op.matmul(placeholders.mask, placeholders.embeds));
      }
      const positions = g.scope('position_embedding', () => p.weight('weight', [cfg.maxPositions, d]));
      return op.add(tokens, op.slice(positions, 0, 0, n));
    });
    // 2. Causal mask: a token sees itself and earlier tokens only
    const blocked = h.dtype === 'float16' ? -1e4 : -1e9;
    const mask = g.constant(
      h.dtype,
      [1, 1, n, n],
      Array.from({ length: n * n }, (_, i) => (i % n > Math.floor(i / n) ? blocked : 0)),
    );
    // 3. Encoder layers
    h = clipEncoder(p, h, cfg, mask);
    return layerNormLayer(p, 'final_layer_norm', h, cfg.eps);
  });
}
