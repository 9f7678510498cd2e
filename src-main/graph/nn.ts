// Layers composed from the op set: their gradients come from the ops' rules.
import type { Tensor } from './ir.js';
import { add, cast, div, erf, mul, sigmoid, sqrt, sub } from './ops/elementwise.js';
import { matmul } from './ops/linalg.js';
import { reduceMean, softmax } from './ops/reduce.js';
import { concat, reshape, slice, transposeLast2 } from './ops/shape-ops.js';

/** x @ Wᵀ + b with a PyTorch-layout weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return accumulated(
    x,
    (x, [w, b]) => {
      const y = matmul(x, transposeLast2(w!));
      return b ? add(y, b) : y;
    },
    bias ? [weight, bias] : [weight],
  );
}

/**
 * f over x in float32 when x is float16, the result back in float16: as PyTorch's autocast runs the
 * precision-sensitive ops (normalisation statistics, softmax) in float32 inside a half-precision model.
 * The tensors `alongside` (a norm's weight and bias) are cast with x.
 */
function inFloat32(x: Tensor, f: (x32: Tensor, alongside: Tensor[]) => Tensor, alongside: readonly Tensor[] = []): Tensor {
  if (x.dtype !== 'float16') return f(x, [...alongside]);
  const to32 = (t: Tensor) => (t.dtype === 'float16' ? cast(t, 'float32') : t);
  return cast(f(to32(x), alongside.map(to32)), 'float16');
}

/** A matrix product or convolution over x: added up in float32 for a float16 x unless the graph asks for float16 (Graph.halfAccumulation). */
export function accumulated(x: Tensor, f: (x: Tensor, alongside: Tensor[]) => Tensor, alongside: readonly Tensor[] = []): Tensor {
  return x.graph.halfAccumulation === 'float32' ? inFloat32(x, f, alongside) : f(x, [...alongside]);
}

/** Layer norm over the last axis (in float32 for a float16 x). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return inFloat32(x, (x32, [w, b]) => layerNorm32(x32, w!, b!, eps), [weight, bias]);
}

function layerNorm32(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const axis = x.shape.length - 1;
  const mean = reduceMean(x, [axis], true);
  const centered = sub(x, mean);
  const variance = reduceMean(mul(centered, centered), [axis], true);
  return add(mul(div(centered, sqrt(add(variance, eps))), weight), bias);
}

/** Group norm for NCHW (or NC…) tensors with per-channel affine weight and bias (in float32 for a float16 x). */
export function groupNorm(x: Tensor, groups: number, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return inFloat32(x, (x32, [w, b]) => groupNorm32(x32, groups, w!, b!, eps), [weight, bias]);
}

function groupNorm32(x: Tensor, groups: number, weight: Tensor, bias: Tensor, eps: number): Tensor {
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

/** Scores, softmax and the weighted values: all in float32 under float32 accumulation; else the softmax alone. */
function attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor {
  return accumulated(q, (q, [k, v, m]) => attendIn(q, k!, v!, m ?? null), mask ? [k, v, mask] : [k, v]);
}

function attendIn(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor {
  const d = q.shape[q.shape.length - 1]!;
  let scores = mul(matmul(q, transposeLast2(k)), 1 / Math.sqrt(d));
  if (mask) scores = add(scores, mask);
  // the softmax in float32 (autocast's choice): its exponentials and row sums lose most in half precision
  return matmul(
    inFloat32(scores, (s) => softmax(s, -1)),
    v,
  );
}
