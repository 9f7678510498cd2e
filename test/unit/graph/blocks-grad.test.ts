import { describe, it } from 'vitest';
import { attention, gelu, groupNorm, layerNorm, linear, silu } from '../../../src-main/graph/nn.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { gradCheck } from './gradcheck.js';

describe('gradients of composed blocks', () => {
  it('multi-head attention with softmax', () =>
    gradCheck({
      inputs: { x: [2, 5, 8], ctx: [2, 3, 6], wq: [8, 8], wk: [8, 6], wv: [8, 6], wo: [8, 8] },
      init: { wq: (r) => r.normal() * 0.3, wk: (r) => r.normal() * 0.3, wv: (r) => r.normal() * 0.3, wo: (r) => r.normal() * 0.3 },
      build: ({ x, ctx, wq, wk, wv, wo }) => {
        const heads = (t: op.Tensor, tokens: number) => op.transpose(op.reshape(t, [2, tokens, 2, 4]), [0, 2, 1, 3]);
        const q = heads(linear(x!, wq!), 5);
        const k = heads(linear(ctx!, wk!), 3);
        const v = heads(linear(ctx!, wv!), 3);
        const merged = op.reshape(op.transpose(attention(q, k, v), [0, 2, 1, 3]), [2, 5, 8]);
        return op.add(x!, linear(merged, wo!));
      },
    }));

  it('chunked attention (queries in chunks of 2 of 5, with a causal mask): the same gradients', () =>
    gradCheck({
      inputs: { q: [1, 2, 5, 4], k: [1, 2, 5, 4], v: [1, 2, 5, 4] },
      build: ({ q, k, v }, g) => {
        g.attentionScoreLimit = 2 * 2 * 5; // two query rows per chunk
        const mask = g.constant(
          'float64',
          [1, 1, 5, 5],
          Array.from({ length: 25 }, (_, i) => (i % 5 > Math.floor(i / 5) ? -1e9 : 0)),
        );
        const out = attention(q!, k!, v!, mask);
        if (g.cuts.length < 3) throw new Error('attention was not chunked');
        return out;
      },
    }));

  it('ResNet block: GroupNorm + SiLU + Conv, with a residual', () =>
    gradCheck({
      dtype: 'float32',
      inputs: { x: [1, 4, 6, 6], gamma: [4], beta: [4], w1: [4, 4, 3, 3], b1: [4], w2: [4, 4, 3, 3] },
      init: { gamma: (r) => 1 + 0.1 * r.normal(), w1: (r) => 0.2 * r.normal(), w2: (r) => 0.2 * r.normal() },
      build: ({ x, gamma, beta, w1, b1, w2 }) => {
        const h = op.conv2d(silu(groupNorm(x!, 2, gamma!, beta!)), w1!, b1!, { padding: 1 });
        return op.add(x!, op.conv2d(silu(h), w2!, null, { padding: 1 }));
      },
    }));

  it('LayerNorm + MLP (GELU)', () =>
    gradCheck({
      dtype: 'float32',
      inputs: { x: [3, 4, 8], gamma: [8], beta: [8], w1: [16, 8], b1: [16], w2: [8, 16] },
      init: { gamma: (r) => 1 + 0.1 * r.normal(), w1: (r) => 0.3 * r.normal(), w2: (r) => 0.3 * r.normal() },
      build: ({ x, gamma, beta, w1, b1, w2 }) => op.add(x!, linear(gelu(linear(layerNorm(x!, gamma!, beta!), w1!, b1!)), w2!)),
    }));
});
