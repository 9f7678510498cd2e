// DINO's ViTs as transformers stores them — v1 as ViTModel (facebook/dino-vits16), v2 as Dinov2Model
// (facebook/dinov2-small): the report card's DINO-f/-b embedding is the class token of the last hidden state, after
// the final layernorm. v2 differs in its block names and a learned scale on each residual branch.
import type { Tensor } from '../graph/ir.js';
import { gelu } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { checkVisionTowerConfig } from './config-check.js';
import { attend, layerNormLayer, linearLayer, mergeHeads, splitHeads } from './layers.js';
import type { ParamFactory } from './params.js';
import type { VisionTowerConfig } from './vision.js';

/** DINO ViT-S/16, the paper's metric network. */
export const DINO_VIT_S16: VisionTowerConfig = { imageSize: 224, patchSize: 16, hiddenSize: 384, intermediateSize: 1536, layers: 12, heads: 6, eps: 1e-6 };

export type DinoVersion = 1 | 2;

/** A block's names: v1 (ViTModel) and v2 (Dinov2Layer) hold the same attention under different norms and MLP names. */
const NAMES = {
  1: { norm1: 'layernorm_before', norm2: 'layernorm_after', fc1: 'intermediate.dense', fc2: 'output.dense' },
  2: { norm1: 'norm1', norm2: 'norm2', fc1: 'mlp.fc1', fc2: 'mlp.fc2' },
} as const;

/** Pixels [B, 3, S, S] (ImageNet-normalised) → the class token [B, hidden]. v2 runs at its stored size (no position interpolation). */
export function dinoClassToken(p: ParamFactory, cfg: VisionTowerConfig, pixels: Tensor, version: DinoVersion = 1): Tensor {
  checkVisionTowerConfig(cfg, 'DINO config');
  const names = NAMES[version];
  const g = pixels.graph;
  const b = pixels.shape[0]!;
  const d = cfg.hiddenSize;
  /** v2's layer scale on a residual branch; v1 has none. */
  const scaled = (branch: Tensor, scale: string) => (version === 2 ? g.scope(scale, () => op.mul(branch, p.weight('lambda1', [d]))) : branch);
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
  // 2. Pre-norm blocks: attention, then an exact-GELU MLP (v2: each branch scaled)
  for (let i = 0; i < cfg.layers; i++) {
    g.checkpoint();
    h = g.scope(`encoder.layer.${i}`, () => {
      const normed = layerNormLayer(p, names.norm1, h, cfg.eps);
      const attn = g.scope('attention', () => {
        const heads = g.scope('attention', () => {
          const [q, k, v] = ['query', 'key', 'value'].map((name) => splitHeads(linearLayer(p, name, normed, d, d), cfg.heads));
          return mergeHeads(attend(p, q!, k!, v!));
        });
        return g.scope('output', () => linearLayer(p, 'dense', heads, d, d));
      });
      const x = op.add(h, scaled(attn, 'layer_scale1'));
      const normed2 = layerNormLayer(p, names.norm2, x, cfg.eps);
      const mlp = gelu(linearLayer(p, names.fc1, normed2, d, cfg.intermediateSize));
      return op.add(x, scaled(linearLayer(p, names.fc2, mlp, cfg.intermediateSize, d), 'layer_scale2'));
    });
  }
  g.checkpoint();
  // 3. The class token of the final layernorm
  return op.reshape(op.slice(layerNormLayer(p, 'layernorm', h, cfg.eps), 1, 0, 1), [b, d]);
}
