// The gradient rules: one record per op type the graph builders emit, as tinygrad's gradient.py keeps them in
// one table. A rule builds its input gradients from the forward builders (standard ONNX ops only); ops that
// carry no gradient say so. test/unit/graph/op-rules.test.ts checks every op the models use has a record,
// and ops-grad.test.ts checks each rule against finite differences.
import { isFloat } from '../dtype.js';
import { intAttr, intsAttr, type Tensor } from '../ir.js';
import { convInputGrad, convWeightGrad } from './conv-gradients.js';
import { cast, cos, div, equal, exp, greater, less, like, mul, neg, or, sin, STOP_GRADIENT, sub, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { reduceSum, sumToShape } from './reduce.js';
import { defineOp, type OpRule, ruleTable } from './registry.js';
import { concat, expand, pad, reshape, scatterAdd, slice, transpose, transposeLast2 } from './shape-ops.js';

/** A broadcast operand's gradient, summed back to its own shape. */
const reduced = (g: Tensor | undefined, x: Tensor | null | undefined) => (g && x ? sumToShape(g, x.shape) : undefined);

function minMax(type: 'Min' | 'Max'): OpRule {
  return defineOp({
    type,
    vjp: (n, [g], w) => {
      const [a, b] = n.inputs as [Tensor, Tensor];
      if (!g) return [undefined, undefined];
      // ties send the whole gradient to the first operand
      const toA = or(type === 'Min' ? less(a, b) : greater(a, b), equal(a, b));
      const zero = like(g, 0);
      return [w[0] ? reduced(where(toA, g, zero), a) : undefined, w[1] ? reduced(where(toA, zero, g), b) : undefined];
    },
  });
}

function reduction(type: 'ReduceSum' | 'ReduceMean'): OpRule {
  return defineOp({
    type,
    vjp: (n, [g]) => {
      const x = n.inputs[0]!;
      if (!g) return [undefined, undefined];
      const axes = x.graph.constantInts(n.inputs[1]!);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const spread = expand(reshape(g, kept), x.shape);
      return [type === 'ReduceMean' ? div(spread, x.shape.reduce((s, d) => s * d, 1) / kept.reduce((s, d) => s * d, 1)) : spread, undefined];
    },
  });
}

const RULES: readonly OpRule[] = [
  // 1. Elementwise
  defineOp({ type: 'Add', vjp: (n, [g], w) => [w[0] ? reduced(g, n.inputs[0]) : undefined, w[1] ? reduced(g, n.inputs[1]) : undefined] }),
  defineOp({ type: 'Sub', vjp: (n, [g], w) => [w[0] ? reduced(g, n.inputs[0]) : undefined, w[1] && g ? reduced(neg(g), n.inputs[1]) : undefined] }),
  defineOp({
    type: 'Mul',
    vjp: (n, [g], w) => {
      const [a, b] = n.inputs as [Tensor, Tensor];
      return [w[0] && g ? reduced(mul(g, b), a) : undefined, w[1] && g ? reduced(mul(g, a), b) : undefined];
    },
  }),
  defineOp({
    type: 'Div',
    vjp: (n, [g], w) => {
      const [a, b] = n.inputs as [Tensor, Tensor];
      if (!g) return [undefined, undefined];
      return [w[0] ? reduced(div(g, b), a) : undefined, w[1] ? reduced(neg(div(mul(g, n.outputs[0]!), b)), b) : undefined];
    },
  }),
  defineOp({ type: 'Neg', vjp: (_n, [g]) => [g && neg(g)] }),
  defineOp({ type: 'Identity', vjp: (_n, [g]) => [g] }),
  defineOp({
    type: 'Pow',
    vjp: (n, [g]) => {
      const [x, p] = n.inputs as [Tensor, Tensor];
      // d/dx x^p = p·x^(p−1); the exponent is a constant
      const lowered = x.graph.addNode('Pow', [x, sub(p, 1)], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
      return [g && mul(g, mul(p, lowered)), undefined];
    },
  }),
  defineOp({ type: 'Sqrt', vjp: (n, [g]) => [g && div(mul(g, 0.5), n.outputs[0]!)] }),
  defineOp({ type: 'Exp', vjp: (n, [g]) => [g && mul(g, n.outputs[0]!)] }),
  defineOp({ type: 'Log', vjp: (n, [g]) => [g && div(g, n.inputs[0]!)] }),
  defineOp({ type: 'Tanh', vjp: (n, [g]) => [g && mul(g, sub(1, mul(n.outputs[0]!, n.outputs[0]!)))] }),
  defineOp({ type: 'Sigmoid', vjp: (n, [g]) => [g && mul(g, mul(n.outputs[0]!, sub(1, n.outputs[0]!)))] }),
  defineOp({ type: 'Erf', vjp: (n, [g]) => [g && mul(g, mul(exp(neg(mul(n.inputs[0]!, n.inputs[0]!))), 2 / Math.sqrt(Math.PI)))] }),
  defineOp({ type: 'Relu', vjp: (n, [g]) => [g && where(greater(n.inputs[0]!, like(n.inputs[0]!, 0)), g, like(g, 0))] }),
  defineOp({ type: 'Sin', vjp: (n, [g]) => [g && mul(g, cos(n.inputs[0]!))] }),
  defineOp({ type: 'Cos', vjp: (n, [g]) => [g && neg(mul(g, sin(n.inputs[0]!)))] }),
  defineOp({
    type: 'Where',
    vjp: (n, [g], w) => {
      const [c, a, b] = n.inputs as [Tensor, Tensor, Tensor];
      if (!g) return [undefined, undefined, undefined];
      const zero = like(g, 0);
      return [undefined, w[1] ? reduced(where(c, g, zero), a) : undefined, w[2] ? reduced(where(c, zero, g), b) : undefined];
    },
  }),
  minMax('Min'),
  minMax('Max'),
  defineOp({ type: 'Cast', vjp: (n, [g]) => [g && isFloat(n.inputs[0]!.dtype) ? cast(g, n.inputs[0]!.dtype) : undefined] }),

  // 2. Reductions
  reduction('ReduceSum'),
  reduction('ReduceMean'),
  defineOp({
    type: 'Softmax',
    // dx = y ⊙ (g − Σ g⊙y)
    vjp: (n, [g]) => [g && mul(n.outputs[0]!, sub(g, reduceSum(mul(g, n.outputs[0]!), [intAttr(n, 'axis')], true)))],
  }),

  // 3. Shapes
  defineOp({ type: 'Reshape', vjp: (n, [g]) => [g && reshape(g, n.inputs[0]!.shape), undefined] }),
  defineOp({
    type: 'Transpose',
    vjp: (n, [g]) => {
      const perm = intsAttr(n, 'perm');
      return [
        g &&
          transpose(
            g,
            perm.map((_, i) => perm.indexOf(i)),
          ),
      ];
    },
  }),
  defineOp({ type: 'Expand', vjp: (n, [g]) => [g && sumToShape(g, n.inputs[0]!.shape), undefined] }),
  defineOp({
    type: 'Concat',
    vjp: (n, [g], wants) => {
      if (!g) return n.inputs.map(() => undefined);
      const axis = intAttr(n, 'axis');
      let offset = 0;
      return n.inputs.map((x, i) => {
        const size = x!.shape[axis]!;
        const part = wants[i] ? slice(g, axis, offset, offset + size) : undefined;
        offset += size;
        return part;
      });
    },
  }),
  defineOp({
    type: 'Slice',
    vjp: (n, [g]) => {
      const x = n.inputs[0]!;
      if (!g) return n.inputs.map(() => undefined);
      const [start, end, axis] = [1, 2, 3].map((i) => x.graph.constantInts(n.inputs[i]!)[0]!) as [number, number, number];
      const r = x.shape.length;
      const pads = new Array<number>(2 * r).fill(0);
      pads[axis] = start;
      pads[axis + r] = x.shape[axis]! - end;
      return [pad(g, pads), ...n.inputs.slice(1).map(() => undefined)];
    },
  }),
  defineOp({
    type: 'Split',
    vjp: (n, grads) => {
      if (grads.every((g) => !g)) return [undefined, undefined];
      const parts = n.outputs.map((o, i) => grads[i] ?? expand(like(o, 0), o.shape));
      return [concat(parts, intAttr(n, 'axis')), undefined];
    },
  }),
  defineOp({
    type: 'Pad',
    vjp: (n, [g]) => {
      const x = n.inputs[0]!;
      if (!g) return [undefined, undefined];
      const pads = x.graph.constantInts(n.inputs[1]!);
      let out = g;
      x.shape.forEach((d, axis) => {
        if (pads[axis] !== 0 || pads[axis + x.shape.length] !== 0) out = slice(out, axis, pads[axis]!, pads[axis]! + d);
      });
      return [out, undefined];
    },
  }),
  defineOp({ type: 'Gather', vjp: (n, [g]) => [g && scatterAdd(n.inputs[0]!.shape, n.inputs[1]!, g), undefined] }),

  // 4. Linear algebra and images
  defineOp({
    type: 'MatMul',
    vjp: (n, [g], wants) => {
      const [a, b] = n.inputs as [Tensor, Tensor];
      if (!g) return [undefined, undefined];
      return [
        wants[0] ? sumToShape(matmul(g, transposeLast2(b)), a.shape) : undefined,
        wants[1] ? sumToShape(matmul(transposeLast2(a), g), b.shape) : undefined,
      ];
    },
  }),
  defineOp({
    type: 'Conv',
    vjp: (n, [g], wants) => {
      if (!g) return n.inputs.map(() => undefined);
      const [x, weight] = n.inputs as [Tensor, Tensor];
      const s = intsAttr(n, 'strides')[0]!;
      const p = intsAttr(n, 'pads')[0]!;
      return [
        wants[0] ? convInputGrad(g, x, weight, s, p) : undefined,
        wants[1] ? convWeightGrad(g, x, weight, s, p) : undefined,
        ...(n.inputs[2] ? [wants[2] ? reduceSum(g, [0, 2, 3]) : undefined] : []),
      ];
    },
  }),
  defineOp({
    type: 'Resize',
    vjp: (n, [g]) => {
      if (!g) return [undefined, undefined, undefined];
      const [b, c, h, w] = n.inputs[0]!.shape as [number, number, number, number];
      // nearest ×2: each input pixel fed a 2×2 block of the output
      return [reshape(reduceSum(reshape(g, [b, c, h, 2, w, 2]), [3, 5]), [b, c, h, w]), undefined, undefined];
    },
  }),

  // 5. No gradient: comparisons, logic, shapes, index scatter, and the stop-gradient itself
  ...['Greater', 'Less', 'Equal', 'Not', 'And', 'Or', 'Shape', 'ScatterND', STOP_GRADIENT].map((type) => defineOp({ type, nondifferentiable: true })),
];

const TABLE = ruleTable(RULES);

/** The op's record, if it has one. */
export const ruleOf = (type: string): OpRule | undefined => TABLE.get(type);

/** True for ops that never carry a gradient (their outputs do not depend on their inputs differentiably). */
export const carriesNoGradient = (type: string): boolean => {
  const rule = TABLE.get(type);
  return rule !== undefined && 'nondifferentiable' in rule;
};

export const ruledOpTypes = (): string[] => [...TABLE.keys()];
