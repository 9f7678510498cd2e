import { GraphError } from '../errors.js';
import type { Tensor } from '../ir.js';
import { normalizeAxis, sameShape, type Shape } from '../shape.js';
import { reshape } from './shape-ops.js';

function reduce(type: 'ReduceSum' | 'ReduceMean', x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const rank = x.shape.length;
  const norm = [...new Set(axes.map((a) => normalizeAxis(type, a, rank)))].sort((a, b) => a - b);
  const shape = x.shape.flatMap((d, i) => (norm.includes(i) ? (keepdims ? [1] : []) : [d]));
  const node = x.graph.addNode(type, [x, x.graph.int64s(norm)], { keepdims: { int: keepdims ? 1 : 0 } }, [{ dtype: x.dtype, shape }]);
  return node[0]!;
}

export const reduceSum = (x: Tensor, axes: readonly number[], keepdims = false) => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes: readonly number[], keepdims = false) => reduce('ReduceMean', x, axes, keepdims);
/** Sum of every element, as a scalar. */
export const sumAll = (x: Tensor) =>
  reshape(
    reduceSum(
      x,
      x.shape.map((_, i) => i),
    ),
    [],
  );
export const meanAll = (x: Tensor) =>
  reshape(
    reduceMean(
      x,
      x.shape.map((_, i) => i),
    ),
    [],
  );

/** Sums a broadcast gradient back to the operand's shape. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  if (lead < 0) throw new GraphError('sumToShape', `cannot reduce [${g.shape}] to [${shape}]`);
  const axes = g.shape.map((d, i) => (i < lead || (shape[i - lead] === 1 && d !== 1) ? i : -1)).filter((i) => i >= 0);
  const summed = axes.length ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis('Softmax', axis, x.shape.length);
  return x.graph.addNode('Softmax', [x], { axis: { int: a } }, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}
