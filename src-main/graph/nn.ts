// Layers composed from the op set: their gradients come from the ops' rules.
import type { Tensor } from './ir.js';
import { add, div, erf, mul, sigmoid, sqrt, sub } from './ops/elementwise.js';
import { matmul } from './ops/linalg.js';
import { reduceMean, softmax } from './ops/reduce.js';
import { concat, reshape, slice, transposeLast2 } from './ops/shape-ops.js';

/** x @ Wᵀ + b with a PyTorch-layout weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const y = matmul(x, transposeLast2(weight));
  return bias ? add(y, bias) : y;
}

/** Layer norm over the last axis. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const axis = x.shape.length - 1;
  const mean = reduceMean(x, [axis], true);
  const centered = sub(x, mean);
  const variance = reduceMean(mul(centered, centered), [axis], true);
  return add(mul(div(centered, sqrt(add(variance, eps))), weight), bias);
}

/** Group norm for NCHW (or NC…) tensors with per-channel affine weight and bias. */
export function groupNorm(x: Tensor, groups: number, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const [n, c, ...rest] = x.shape as [number, number, ...number[]];
  const grouped = reshape(x, [n, groups, (c / groups) * rest.reduce((a, b) => a * b, 1)]);
  const mean = reduceMean(grouped, [2], true);
  const centered = sub(grouped, mean);
  const variance = reduceMean(mul(centered, centered), [2], true);
  const normed = reshape(div(centered, sqrt(add(variance, eps))), x.shape);
  const affineShape = [c, ...rest.map(() => 1)];
  return add(mul(normed, reshape(weight, affineShape)), reshape(bias, affineShape));
}

export const silu = (x: Tensor) => mul(x, sigmoid(x));
/** Exact GELU: x·Φ(x). */
export const gelu = (x: Tensor) => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
/** CLIP's quick GELU: x·σ(1.702x). */
export const quickGelu = (x: Tensor) => mul(x, sigmoid(mul(x, 1.702)));

/**
 * softmax(q kᵀ / √d) v over [batch, heads, tokens, dim] tensors. Where the graph limits the score
 * tensor (Graph.attentionScoreLimit), queries go in chunks, each its own checkpointed segment: no
 * [heads, tokens, tokens] tensor is ever whole, and each chunk's backward recomputes its own scores.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null = null): Tensor {
  const g = q.graph;
  const [b, h, n] = q.shape as [number, number, number];
  const m = k.shape[2]!;
  const limit = g.attentionScoreLimit;
  const rows = limit === null ? n : Math.max(1, Math.floor(limit / (b * h * m)));
  if (rows >= n) return attend(q, k, v, mask);
  const chunks: Tensor[] = [];
  for (let start = 0; start < n; start += rows) {
    const end = Math.min(n, start + rows);
    g.checkpoint();
    const maskRows = mask && mask.shape[mask.shape.length - 2] !== 1 ? slice(mask, -2, start, end) : mask;
    chunks.push(attend(slice(q, 2, start, end), k, v, maskRows));
  }
  g.checkpoint();
  return concat(chunks, 2);
}

function attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor {
  const d = q.shape[q.shape.length - 1]!;
  let scores = mul(matmul(q, transposeLast2(k)), 1 / Math.sqrt(d));
  if (mask) scores = add(scores, mask);
  return matmul(softmax(scores, -1), v);
}
