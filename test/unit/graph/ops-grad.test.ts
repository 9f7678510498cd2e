import { describe, it } from 'vitest';
import * as op from '../../../src-main/graph/ops/index.js';
import { gradCheck } from './gradcheck.js';

const positive = (r: { uniform(): number }) => 0.5 + r.uniform() * 2;

describe('gradient rules (finite differences through onnxruntime, float64)', () => {
  it('Add, Sub, Mul, Div with broadcasting', () =>
    gradCheck({
      inputs: { a: [2, 3, 4], b: [3, 1], c: [4] },
      init: { c: positive },
      build: ({ a, b, c }) => op.div(op.sub(op.mul(op.add(a!, b!), b!), c!), c!),
    }));
  it('Neg, Pow, Sqrt, Exp, Log', () =>
    gradCheck({
      inputs: { x: [3, 4] },
      init: { x: positive },
      build: ({ x }) => op.add(op.add(op.neg(op.pow(x!, 3)), op.sqrt(x!)), op.add(op.exp(op.mul(x!, 0.3)), op.log(x!))),
    }));
  it('Tanh, Sigmoid, Relu, Sin, Cos', () =>
    gradCheck({
      inputs: { x: [5, 3] },
      build: ({ x }) => op.add(op.add(op.tanh(x!), op.sigmoid(x!)), op.add(op.relu(x!), op.mul(op.sin(x!), op.cos(x!)))),
    }));
  it('Erf (GELU)', () => gradCheck({ inputs: { x: [4, 4] }, dtype: 'float32', build: ({ x }) => op.mul(x!, op.erf(x!)) }));
  it('MatMul, batched and broadcasting', () => gradCheck({ inputs: { a: [2, 3, 4, 5], b: [3, 5, 2] }, build: ({ a, b }) => op.matmul(a!, b!) }));
  it('Transpose, Reshape, Flatten, Expand', () =>
    gradCheck({
      inputs: { x: [2, 3, 4], y: [1, 4] },
      build: ({ x, y }) => op.flatten(op.add(op.reshape(op.transpose(x!, [2, 0, 1]), [4, 6]), op.transposeLast2(op.expand(y!, [6, 4])))),
    }));
  it('Concat, Slice, Split, Pad', () =>
    gradCheck({
      inputs: { a: [2, 3], b: [2, 5] },
      build: ({ a, b }) => {
        const c = op.concat([a!, b!], 1);
        const [p, q] = op.split(c, 1, [6, 2]);
        return op.add(op.pad(op.slice(p!, 1, 1, 3), [0, 0, 0, 1]), op.pad(op.mul(q!, op.slice(p!, 1, 0, 2)), [0, 1, 0, 0]));
      },
    }));
  it('Where, Min, Max', () =>
    gradCheck({
      inputs: { a: [3, 4], b: [3, 4] },
      build: ({ a, b }) => op.add(op.where(op.greater(a!, op.like(a!, 0)), a!, op.mul(b!, 2)), op.mul(op.min(a!, b!), op.max(a!, b!))),
    }));
  it('ReduceSum, ReduceMean, Softmax', () =>
    gradCheck({
      inputs: { x: [2, 3, 4] },
      build: ({ x }) => op.add(op.softmax(op.mul(x!, 2), -1), op.add(op.reduceSum(x!, [2], true), op.reduceMean(x!, [0, 2], true))),
    }));
  it('Gather: the gradient reaches the embedding table, repeated rows add up', () =>
    gradCheck({
      inputs: { table: [6, 4] },
      fixed: { ids: { dtype: 'int64', shape: [2, 3], data: BigInt64Array.from([1n, 3n, 1n, 0n, 5n, 1n]) } },
      build: ({ table, ids }) => op.gather(table!, ids!),
    }));
  it('Cast float16 ↔ float32 passes gradients', () =>
    gradCheck({
      inputs: { x: [3, 3] },
      dtype: 'float32',
      rtol: 5e-2,
      atol: 5e-2,
      build: ({ x }) => op.cast(op.mul(op.cast(x!, 'float16'), op.cast(x!, 'float16')), 'float32'),
    }));
});

describe('gradient rules for image ops (float32: ORT runs Conv and Resize in float)', () => {
  it('Conv 3×3, padding 1, with bias', () =>
    gradCheck({ dtype: 'float32', inputs: { x: [2, 3, 6, 6], w: [4, 3, 3, 3], b: [4] }, build: ({ x, w, b }) => op.conv2d(x!, w!, b!, { padding: 1 }) }));
  it('Conv 3×3, stride 2 (downsampling), odd input', () =>
    gradCheck({ dtype: 'float32', inputs: { x: [1, 2, 7, 7], w: [3, 2, 3, 3] }, build: ({ x, w }) => op.conv2d(x!, w!, null, { stride: 2, padding: 1 }) }));
  it('Conv 3×3, batch 1, no padding, non-square input (one product per sample)', () =>
    gradCheck({ dtype: 'float32', inputs: { x: [1, 3, 6, 5], w: [2, 3, 3, 3] }, build: ({ x, w }) => op.conv2d(x!, w!) }));
  it('Conv 1×1', () => gradCheck({ dtype: 'float32', inputs: { x: [2, 4, 5, 5], w: [3, 4, 1, 1] }, build: ({ x, w }) => op.conv2d(x!, w!) }));
  it('Resize nearest ×2', () => gradCheck({ dtype: 'float32', inputs: { x: [1, 2, 3, 4] }, build: ({ x }) => op.upsampleNearest2x(x!) }));
});
