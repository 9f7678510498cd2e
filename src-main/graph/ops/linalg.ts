import { GraphError } from '../errors.js';
import type { Tensor } from '../ir.js';
import { broadcastShapes, fmt } from '../shape.js';
import { reduceSum, sumToShape } from './reduce.js';
import { defineVjp } from './registry.js';
import { concat, pad, reshape, slice, transpose, transposeLast2, unsqueeze } from './shape-ops.js';

/** Batched matrix product of rank ≥ 2 tensors; batch axes broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length < 2 || b.shape.length < 2) throw new GraphError('MatMul', `needs rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  if (a.dtype !== b.dtype) throw new GraphError('MatMul', `dtypes differ: ${a.dtype} and ${b.dtype}`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new GraphError('MatMul', `inner sizes differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.addNode('MatMul', [a, b], {}, [{ dtype: a.dtype, shape: [...batch, m, n] }])[0]!;
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/** 2-D convolution, NCHW, weight [Cout, Cin, kh, kw], optional bias [Cout]; groups = 1. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  if (x.shape.length !== 4 || weight.shape.length !== 4) throw new GraphError('Conv', `needs NCHW input and 4-D weight, got ${fmt(x.shape)}, ${fmt(weight.shape)}`);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
  if (wcin !== cin) throw new GraphError('Conv', `input has ${cin} channels, weight expects ${wcin} (${fmt(weight.shape)})`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== cout)) throw new GraphError('Conv', `bias ${fmt(bias.shape)} should be [${cout}]`);
  const ho = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wo = Math.floor((w + 2 * padding - kw) / stride) + 1;
  if (ho <= 0 || wo <= 0) throw new GraphError('Conv', `kernel ${kh}×${kw} does not fit input ${h}×${w} with padding ${padding}`);
  const attrs = { strides: { ints: [stride, stride] }, pads: { ints: [padding, padding, padding, padding] }, kernel_shape: { ints: [kh, kw] } };
  return x.graph.addNode('Conv', bias ? [x, weight, bias] : [x, weight], attrs, [{ dtype: x.dtype, shape: [n, cout, ho, wo] }])[0]!;
}

/** Transposed convolution producing exactly `outHW` (output_padding chosen to match); weight [Cin, Cout, kh, kw]. */
export function convTranspose2d(x: Tensor, weight: Tensor, options: { stride: number; padding: number; outHW: [number, number] }): Tensor {
  const [n] = x.shape as [number];
  const [, cout, kh, kw] = weight.shape as [number, number, number, number];
  const [h, w] = x.shape.slice(2) as [number, number];
  const { stride: s, padding: p, outHW } = options;
  const base = [(h - 1) * s - 2 * p + kh, (w - 1) * s - 2 * p + kw];
  const outputPadding = [outHW[0] - base[0]!, outHW[1] - base[1]!];
  if (outputPadding.some((o) => o < 0 || o >= s)) throw new GraphError('ConvTranspose', `cannot produce ${outHW} from ${fmt(x.shape)} with stride ${s}`);
  const attrs = {
    strides: { ints: [s, s] },
    pads: { ints: [p, p, p, p] },
    kernel_shape: { ints: [kh, kw] },
    output_padding: { ints: outputPadding },
  };
  return x.graph.addNode('ConvTranspose', [x, weight], attrs, [{ dtype: x.dtype, shape: [n, cout, outHW[0], outHW[1]] }])[0]!;
}

/** Nearest-neighbour upsampling by 2 in H and W (UNet up blocks). */
export function upsampleNearest2x(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const scales = x.graph.constant('float32', [4], [1, 1, 2, 2]);
  const attrs = { mode: { string: 'nearest' }, coordinate_transformation_mode: { string: 'asymmetric' }, nearest_mode: { string: 'floor' } };
  return x.graph.addNode('Resize', [x, null, scales], attrs, [{ dtype: x.dtype, shape: [n, c, 2 * h, 2 * w] }])[0]!;
}

defineVjp('MatMul', (node, [g], wants) => {
  const [a, b] = node.inputs as [Tensor, Tensor];
  if (!g) return [undefined, undefined];
  return [wants[0] ? sumToShape(matmul(g, transposeLast2(b)), a.shape) : undefined, wants[1] ? sumToShape(matmul(transposeLast2(a), g), b.shape) : undefined];
});

defineVjp('Conv', (node, [g], wants) => {
  const [x, weight] = node.inputs as [Tensor, Tensor, Tensor | undefined];
  if (!g) return [undefined, undefined, undefined];
  const s = (node.attrs.strides as { ints: number[] }).ints[0]!;
  const p = (node.attrs.pads as { ints: number[] }).ints[0]!;
  const [kh, kw] = weight.shape.slice(2) as [number, number];
  // input gradient: the transposed convolution of g with the same weight; for stride 1, the same as a
  // convolution with the weight flipped and its channel axes swapped, which onnxruntime runs faster
  const gx = wants[0] ? (s === 1 && kh === kw && p <= kh - 1 ? conv2d(g, flipKernel(weight), null, { padding: kh - 1 - p }) : convTranspose2d(g, weight, { stride: s, padding: p, outHW: [x.shape[2]!, x.shape[3]!] })) : undefined;
  // weight gradient: for stride 1, one matrix product per sample of g with the input's k×k shifted copies;
  // otherwise a convolution of the input (channels as batch) with g (batch as channels), dilated by the stride
  let gw: Tensor | undefined;
  if (wants[1]) gw = s === 1 ? convWeightGradUnfold(x, g, kh, kw, p) : convWeightGradDilated(x, g, s, p, kh, kw);
  const gb = node.inputs[2] && wants[2] ? reduceSum(g, [0, 2, 3]) : undefined;
  return [gx, gw, gb];
});

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

defineVjp('Resize', (node, [g]) => {
  const x = node.inputs[0]!;
  if (!g) return [undefined, undefined, undefined];
  const [n, c, h, w] = x.shape as [number, number, number, number];
  // each input pixel fed a 2×2 block of the output
  return [reshape(reduceSum(reshape(g, [n, c, h, 2, w, 2]), [3, 5]), [n, c, h, w]), undefined, undefined];
});
