import { type DType, isFloat } from '../dtype.js';
import { GraphError } from '../errors.js';
import type { Tensor } from '../ir.js';
import { broadcastShapes, fmt } from '../shape.js';

/** A scalar constant of x's type (for 0.5·x, 1 − x, …). */
export const like = (x: Tensor, value: number) => x.graph.scalar(value, x.dtype);

function unary(type: string, x: Tensor, attrs = {}): Tensor {
  if (!isFloat(x.dtype)) throw new GraphError(type, `needs a float tensor, got ${x.dtype} ${x.name}`);
  return x.graph.addNode(type, [x], attrs, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}

function binary(type: string, a: Tensor, b: Tensor, outDtype?: DType): Tensor {
  if (a.dtype !== b.dtype) throw new GraphError(type, `dtypes differ: ${a.name} is ${a.dtype}, ${b.name} is ${b.dtype}`);
  const shape = broadcastShapes(type, a.shape, b.shape);
  return a.graph.addNode(type, [a, b], {}, [{ dtype: outDtype ?? a.dtype, shape }])[0]!;
}

const operand = (x: Tensor | number, other: Tensor) => (typeof x === 'number' ? like(other, x) : x);

export const add = (a: Tensor | number, b: Tensor | number) => binaryOf('Add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number) => binaryOf('Sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number) => binaryOf('Mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number) => binaryOf('Div', a, b);
export const min = (a: Tensor, b: Tensor) => binary('Min', a, b);
export const max = (a: Tensor, b: Tensor) => binary('Max', a, b);
export const greater = (a: Tensor, b: Tensor) => binary('Greater', a, b, 'bool');
export const less = (a: Tensor, b: Tensor) => binary('Less', a, b, 'bool');
export const equal = (a: Tensor, b: Tensor) => binary('Equal', a, b, 'bool');
/** Logical or of two bool tensors. */
export const or = (a: Tensor, b: Tensor) => binary('Or', a, b, 'bool');

function binaryOf(type: string, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new GraphError(type, 'needs at least one tensor');
  const ta = typeof a === 'number' ? operand(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? operand(b, a as Tensor) : b;
  return binary(type, ta, tb);
}

export const neg = (x: Tensor) => unary('Neg', x);
export const sqrt = (x: Tensor) => unary('Sqrt', x);
export const exp = (x: Tensor) => unary('Exp', x);
export const log = (x: Tensor) => unary('Log', x);
export const tanh = (x: Tensor) => unary('Tanh', x);
export const sigmoid = (x: Tensor) => unary('Sigmoid', x);
export const erf = (x: Tensor) => unary('Erf', x);
export const relu = (x: Tensor) => unary('Relu', x);
export const sin = (x: Tensor) => unary('Sin', x);
export const cos = (x: Tensor) => unary('Cos', x);
export const identity = (x: Tensor) => x.graph.addNode('Identity', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;

/**
 * The IR's one op that is not ONNX: x itself, through which no gradient flows (PyTorch's `detach`,
 * a value computed under `no_grad`). The serializer writes no node for it, so it costs nothing at run time.
 */
export const STOP_GRADIENT = 'StopGradient';
export const detach = (x: Tensor) => x.graph.addNode(STOP_GRADIENT, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;

/** x to a constant power. */
export function pow(x: Tensor, exponent: number): Tensor {
  if (!isFloat(x.dtype)) throw new GraphError('Pow', `needs a float tensor, got ${x.dtype}`);
  return x.graph.addNode('Pow', [x, like(x, exponent)], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}

export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype !== 'bool') throw new GraphError('Where', `condition must be bool, got ${cond.dtype}`);
  if (a.dtype !== b.dtype) throw new GraphError('Where', `branches differ: ${a.dtype} and ${b.dtype}`);
  const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, a.shape), b.shape);
  return a.graph.addNode('Where', [cond, a, b], {}, [{ dtype: a.dtype, shape }])[0]!;
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const code = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[to];
  return x.graph.addNode('Cast', [x], { to: { int: code } }, [{ dtype: to, shape: x.shape }])[0]!;
}

export const zerosLike = (x: Tensor) => mul(x, 0);

export function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new GraphError(op, `shapes differ: ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
}
