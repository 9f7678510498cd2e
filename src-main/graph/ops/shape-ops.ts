import { GraphError } from '../errors.js';
import type { Tensor } from '../ir.js';
import { fmt, normalizeAxis, numel, type Shape } from '../shape.js';

export function reshape(x: Tensor, shape: Shape): Tensor {
  if (numel(shape) !== numel(x.shape)) throw new GraphError('Reshape', `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return x.graph.addNode('Reshape', [x, x.graph.int64s(shape)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

export const flatten = (x: Tensor, axis = 1) => reshape(x, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))]);

export const unsqueeze = (x: Tensor, axis: number) => {
  const a = axis < 0 ? axis + x.shape.length + 1 : axis;
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
};

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) {
    throw new GraphError('Transpose', `perm [${perm}] does not fit rank ${x.shape.length}`);
  }
  return x.graph.addNode('Transpose', [x], { perm: { ints: perm } }, [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }])[0]!;
}

/** Swaps the last two axes (matrix transpose over a batch). */
export function transposeLast2(x: Tensor): Tensor {
  const r = x.shape.length;
  return transpose(
    x,
    [...x.shape.keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
  );
}

export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.shape.length;
  if (lead < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
    throw new GraphError('Expand', `cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  return x.graph.addNode('Expand', [x, x.graph.int64s(shape)], {}, [{ dtype: x.dtype, shape }])[0]!;
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new GraphError('Concat', 'needs at least one tensor');
  const a = normalizeAxis('Concat', axis, first.shape.length);
  for (const x of xs) {
    if (x.dtype !== first.dtype || x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new GraphError('Concat', `${x.name} ${x.dtype}${fmt(x.shape)} does not fit ${first.dtype}${fmt(first.shape)} along axis ${a}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((s, x) => s + x.shape[i]!, 0) : d));
  return first.graph.addNode('Concat', xs, { axis: { int: a } }, [{ dtype: first.dtype, shape }])[0]!;
}

/** x[start:end] along one axis (step 1). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normalizeAxis('Slice', axis, x.shape.length);
  const dim = x.shape[a]!;
  if (start < 0 || end > dim || start >= end) throw new GraphError('Slice', `[${start}:${end}] is outside axis ${a} of size ${dim}`);
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  const g = x.graph;
  return g.addNode('Slice', [x, g.int64s([start]), g.int64s([end]), g.int64s([a])], {}, [{ dtype: x.dtype, shape }])[0]!;
}

export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const a = normalizeAxis('Split', axis, x.shape.length);
  if (sizes.reduce((s, n) => s + n, 0) !== x.shape[a]) throw new GraphError('Split', `sizes [${sizes}] do not add up to ${x.shape[a]}`);
  const outs = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) }));
  return x.graph.addNode('Split', [x, x.graph.int64s(sizes)], { axis: { int: a } }, outs);
}

/** Zero padding: `pads` = [begin per axis…, end per axis…], as ONNX Pad. */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  const r = x.shape.length;
  if (pads.length !== 2 * r) throw new GraphError('Pad', `needs ${2 * r} pads, got ${pads.length}`);
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  return x.graph.addNode('Pad', [x, x.graph.int64s(pads)], { mode: { string: 'constant' } }, [{ dtype: x.dtype, shape }])[0]!;
}

/** Rows of `table` picked by int64 `indices` along axis 0 (embedding lookup). */
export function gather(table: Tensor, indices: Tensor): Tensor {
  if (indices.dtype !== 'int64') throw new GraphError('Gather', `indices must be int64, got ${indices.dtype}`);
  const shape = [...indices.shape, ...table.shape.slice(1)];
  return table.graph.addNode('Gather', [table, indices], { axis: { int: 0 } }, [{ dtype: table.dtype, shape }])[0]!;
}

/** A zero tensor of `shape` with `updates` added at `indices` (repeated indices add up). */
export function scatterAdd(shape: Shape, indices: Tensor, updates: Tensor): Tensor {
  const g = updates.graph;
  const zeros = expand(g.scalar(0, updates.dtype), shape);
  const idx = reshape(indices, [...indices.shape, 1]);
  return g.addNode('ScatterND', [zeros, idx, updates], { reduction: { string: 'add' } }, [{ dtype: updates.dtype, shape }])[0]!;
}
