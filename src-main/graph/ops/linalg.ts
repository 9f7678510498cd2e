import { GraphError } from '../errors.js';
import type { Tensor } from '../ir.js';
import { broadcastShapes, fmt } from '../shape.js';

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
  if (x.shape.length !== 4 || weight.shape.length !== 4)
    throw new GraphError('Conv', `needs NCHW input and 4-D weight, got ${fmt(x.shape)}, ${fmt(weight.shape)}`);
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

/**
 * Max pooling, NCHW, square kernel, no padding (AlexNet's trunk in LPIPS). Forward only: it has no gradient
 * rule, so differentiating through it fails loudly rather than silently giving zero.
 */
export function maxPool2d(x: Tensor, kernel: number, stride: number): Tensor {
  if (x.shape.length !== 4) throw new GraphError('MaxPool', `needs NCHW input, got ${fmt(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const ho = Math.floor((h - kernel) / stride) + 1;
  const wo = Math.floor((w - kernel) / stride) + 1;
  if (ho <= 0 || wo <= 0) throw new GraphError('MaxPool', `kernel ${kernel} does not fit input ${h}×${w}`);
  const attrs = { kernel_shape: { ints: [kernel, kernel] }, strides: { ints: [stride, stride] } };
  return x.graph.addNode('MaxPool', [x], attrs, [{ dtype: x.dtype, shape: [n, c, ho, wo] }])[0]!;
}
