import { describe, expect, it } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import { Graph } from '../../../src-main/graph/graph.js';
import { encodeModel } from '../../../src-main/graph/onnx/serialize.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { GraphSession } from '../../../src-main/graph/runtime/session.js';

const X = Float32Array.from([0.5, -1.25, 2, 0.75, -0.3, 1.5]);

/** loss = Σ x ⊙ f(x) with f = tanh, through a stop-gradient or not; its value and d loss / d x. */
async function lossAndGrad(stop: boolean) {
  const g = new Graph('stop');
  const x = g.input('x', 'float32', [2, 3]);
  const fx = op.tanh(x);
  const loss = op.sumAll(op.mul(x, stop ? op.detach(fx) : fx));
  const [dx] = grad(loss, [x]);
  g.output(loss, 'loss');
  g.output(dx!, 'dx');
  const session = await GraphSession.load(encodeModel(g));
  const out = await session.run({ x: { dtype: 'float32', shape: [2, 3], data: X } });
  await session.release();
  return { loss: Number(out.loss!.data[0]), dx: Array.from(out.dx!.data as Float32Array) };
}

describe('stop-gradient (detach)', () => {
  it('passes the value and no gradient: d/dx Σ x·detach(tanh x) = tanh x', async () => {
    const detached = await lossAndGrad(true);
    const plain = await lossAndGrad(false);
    const tanh = Array.from(X, Math.tanh);
    expect(detached.loss).toBeCloseTo(plain.loss, 6);
    detached.dx.forEach((v, i) => expect(v).toBeCloseTo(tanh[i]!, 6));
    // without it the product rule adds x·(1 − tanh²x)
    plain.dx.forEach((v, i) => expect(v).toBeCloseTo(tanh[i]! + X[i]! * (1 - tanh[i]! ** 2), 5));
  });

  it('is a zero gradient: a loss reached only through it depends on nothing to differentiate', () => {
    const g = new Graph();
    const w = g.param('w', [3]);
    expect(() => grad(op.sumAll(op.detach(op.mul(w, w))), [w])).toThrow(/does not depend/);
    // next to a differentiable path, it adds no backward node
    const loss = op.add(op.sumAll(w), op.sumAll(op.detach(op.exp(w))));
    const before = g.nodes.length;
    grad(loss, [w]);
    expect(g.nodes.slice(before).map((n) => n.type)).not.toContain('Exp');
  });

  it('costs nothing at run time: the ONNX model is byte for byte the one without it', () => {
    const model = (stop: boolean) => {
      const g = new Graph('m');
      const x = g.input('x', 'float32', [4]);
      const two = op.like(x, 2); // made first, so the constant's name does not depend on what follows
      const y = op.exp(x);
      g.output(op.mul(stop ? op.detach(y) : y, two), 'y');
      return encodeModel(g);
    };
    const withStop = model(true);
    expect(Buffer.from(withStop).includes(Buffer.from('StopGradient'))).toBe(false);
    expect(Buffer.from(withStop).equals(Buffer.from(model(false)))).toBe(true);
  });
});
