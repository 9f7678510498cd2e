// DINO v1's ViT as transformers' ViTModel stores it (facebook/dino-vits16): the report card's DINO-f/-b
// embedding is the class token of the last hidden state, after the final layernorm.
import type { Tensor } from '../graph/ir.js';
import { gelu } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { checkVisionTowerConfig } from './config-check.js';
import { attend, layerNormLayer, linearLayer, mergeHeads, splitHeads } from './layers.js';
import type { ParamFactory } from './params.js';
import type { VisionTowerConfig } from './vision.js';

/** DINO ViT-S/16, the paper's metric network. */
export const DINO_VIT_S16: VisionTowerConfig = { imageSize: 224, patchSize: 16, hiddenSize: 384, intermediateSize: 1536, layers: 12, heads: 6, eps: 1e-6 };

/** Pixels [B, 3, S, S] (ImageNet-normalised) → the class token [B, hidden]. */
export function dinoClassToken(p: ParamFactory, cfg: VisionTowerConfig, pixels: Tensor): Tensor {
  checkVisionTowerConfig(cfg, 'DINO config');
  const g = pixels.graph;
  const b = pixels.shape[0]!;
  const d = cfg.hiddenSize;
  const grid = cfg.imageSize / cfg.patchSize;
  // 1. Patches (with bias) + class token + positions
  let h = g.scope('embeddings', () => {
    const patches = g.scope('patch_embeddings.projection', () =>
      op.conv2d(pixels, p.weight('weight', [d, 3, cfg.patchSize, cfg.patchSize]), p.weight('bias', [d]), { stride: cfg.patchSize }),
    );
    const seq = op.transpose(op.reshape(patches, [b, d, grid * grid]), [0, 2, 1]);
    const cls = op.expand(p.weight('cls_token', [1, 1, d]), [b, 1, d]);
    return op.add(op.concat([cls, seq], 1), p.weight('position_embeddings', [1, grid * grid + 1, d]));
  });
  // 2. Pre-norm blocks: attention, then an exact-GELU MLP
  for (let i = 0; i < cfg.layers; i++) {
    g.checkpoint();
    h = g.scope(`encoder.layer.${i}`, () => {
      const normed = layerNormLayer(p, 'layernorm_before', h, cfg.eps);
      const attn = g.scope('attention', () => {
        const heads = g.scope('attention', () => {
          const [q, k, v] = ['query', 'key', 'value'].map((name) => splitHeads(linearLayer(p, name, normed, d, d), cfg.heads));
          return mergeHeads(attend(p, q!, k!, v!));
        });
        return g.scope('output', () => linearLayer(p, 'dense', heads, d, d));
      });
      const x = op.add(h, attn);
      const normed2 = layerNormLayer(p, 'layernorm_after', x, cfg.eps);
      const mlp = g.scope('intermediate', () => gelu(linearLayer(p, 'dense', normed2, d, cfg.intermediateSize)));
      return op.add(
        x,
        g.scope('output', () => linearLayer(p, 'dense', mlp, cfg.intermediateSize, d)),
      );
    });
  }
  g.checkpoint();
  // 3. The class token of the final layernorm
  return op.reshape(op.slice(layerNormLayer(p, 'layernorm', h, cfg.eps), 1, 0, 1), [b, d]);
}
