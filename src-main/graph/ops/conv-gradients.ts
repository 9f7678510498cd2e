// Conv's input and weight gradients, each written the way onnxruntime runs fastest for the stride.
import type { Tensor } from '../ir.js';
import { conv2d, convTranspose2d, matmul } from './linalg.js';
import { reduceSum } from './reduce.js';
import { concat, pad, reshape, slice, transpose, transposeLast2, unsqueeze } from './shape-ops.js';

/**
 * The transposed convolution of g with the same weight; for stride 1, the same as a convolution with the
 * weight flipped and its channel axes swapped, which onnxruntime runs faster.
 */
export function convInputGrad(g: Tensor, x: Tensor, weight: Tensor, s: number, p: number): Tensor {
  const [kh, kw] = weight.shape.slice(2) as [number, number];
  if (s === 1 && kh === kw && p <= kh - 1) return conv2d(g, flipKernel(weight), null, { padding: kh - 1 - p });
  return convTranspose2d(g, weight, { stride: s, padding: p, outHW: [x.shape[2]!, x.shape[3]!] });
}

/**
 * For stride 1, one matrix product per sample of g with the input's k×k shifted copies; otherwise a
 * convolution of the input (channels as batch) with g (batch as channels), dilated by the stride.
 */
export function convWeightGrad(g: Tensor, x: Tensor, weight: Tensor, s: number, p: number): Tensor {
  const [kh, kw] = weight.shape.slice(2) as [number, number];
  return s === 1 ? convWeightGradUnfold(x, g, kh, kw, p) : convWeightGradDilated(x, g, s, p, kh, kw);
}

/** W[co, ci, i, j] → W'[ci, co, kh−1−i, kw−1−j]. */
function flipKernel(weight: Tensor): Tensor {
  const [cout, cin, kh, kw] = weight.shape as [number, number, number, number];
  const swapped = transpose(weight, [1, 0, 2, 3]);
  if (kh === 1 && kw === 1) return swapped;
  const g = weight.graph;
  const inputs = [swapped, g.int64s([kh - 1, kw - 1]), g.int64s([-kh - 1, -kw - 1]), g.int64s([2, 3]), g.int64s([-1, -1])];
  return g.addNode('Slice', inputs, {}, [{ dtype: weight.dtype, shape: [cin, cout, kh, kw] }])[0]!;
}

/**
 * dW[co, ci, i, j] = Σ_{n,y,x} g[n, co, y, x] · xpad[n, ci, y+i, x+j], as one product per sample
 * [Cout, Ho·Wo] × [Cin·kh·kw, Ho·Wo]ᵀ: the shifted copies stay in their own layout (the transposed
 * operand is read in place by the matrix product), then the samples are summed.
 */
function convWeightGradUnfold(x: Tensor, g: Tensor, kh: number, kw: number, p: number): Tensor {
  const [n, cin] = x.shape as [number, number];
  const [, cout, ho, wo] = g.shape as [number, number, number, number];
  const padded = p > 0 ? pad(x, [0, 0, p, p, 0, 0, p, p]) : x;
  const shifts: Tensor[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) shifts.push(unsqueeze(slice(slice(padded, 2, i, i + ho), 3, j, j + wo), 2));
  // [N, Cin, kh·kw, Ho, Wo] → [N, Cin·kh·kw, Ho·Wo]
  const cols = reshape(concat(shifts, 2), [n, cin * kh * kw, ho * wo]);
  const perSample = matmul(reshape(g, [n, cout, ho * wo]), transposeLast2(cols));
  return reshape(n > 1 ? reduceSum(perSample, [0]) : perSample, [cout, cin, kh, kw]);
}

function convWeightGradDilated(x: Tensor, g: Tensor, s: number, p: number, kh: number, kw: number): Tensor {
  const xt = transpose(x, [1, 0, 2, 3]);
  const gt = transpose(g, [1, 0, 2, 3]);
  const [, , gh, gwid] = g.shape as [number, number, number, number];
  const attrs = { strides: { ints: [1, 1] }, pads: { ints: [p, p, p, p] }, dilations: { ints: [s, s] }, kernel_shape: { ints: [gh, gwid] } };
  const outH = x.shape[2]! + 2 * p - s * (gh - 1);
  const outW = x.shape[3]! + 2 * p - s * (gwid - 1);
  let full = x.graph.addNode('Conv', [xt, gt], attrs, [{ dtype: x.dtype, shape: [x.shape[1]!, g.shape[1]!, outH, outW] }])[0]!;
  if (outH > kh) full = slice(full, 2, 0, kh);
  if (outW > kw) full = slice(full, 3, 0, kw);
  return transpose(full, [1, 0, 2, 3]);
}
