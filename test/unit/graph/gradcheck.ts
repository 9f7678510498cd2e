// Finite-difference checks of the autodiff rules, run through onnxruntime itself.
import { expect } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import type { DType, FloatDType } from '../../../src-main/graph/dtype.js';
import { Graph, hostArray } from '../../../src-main/graph/graph.js';
import type { Tensor } from '../../../src-main/graph/ir.js';
import { encodeModel } from '../../../src-main/graph/onnx/serialize.js';
import { mul, sumAll } from '../../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { GraphSession, type HostTensor } from '../../../src-main/graph/runtime/session.js';
import { numel, type Shape } from '../../../src-main/graph/shape.js';

export interface GradCheckSpec {
  /** Float inputs to differentiate, by name and shape. */
  inputs: Record<string, Shape>;
  /** Inputs fed as given and not differentiated (indices, masks). */
  fixed?: Record<string, HostTensor>;
  build: (x: Record<string, Tensor>, g: Graph) => Tensor;
  dtype?: FloatDType;
  /** Values for an input instead of N(0,1) (e.g. positive for Log/Sqrt). */
  init?: Record<string, (r: SeededRandom) => number>;
  eps?: number;
  rtol?: number;
  atol?: number;
  directions?: number;
}

/**
 * Checks d loss/d x for loss = Σ(y ⊙ R), R random, by comparing the analytic directional
 * derivative ⟨∇loss, v⟩ with (loss(x+εv) − loss(x−εv)) / 2ε along random directions v.
 */
export async function gradCheck(spec: GradCheckSpec): Promise<void> {
  const dtype = spec.dtype ?? 'float64';
  const eps = spec.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rtol = spec.rtol ?? (dtype === 'float64' ? 1e-5 : 2e-2);
  const atol = spec.atol ?? (dtype === 'float64' ? 1e-8 : 1e-3);
  const rng = new SeededRandom(1234);

  const g = new Graph('gradcheck');
  const x: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(spec.inputs)) x[name] = g.input(name, dtype, shape);
  for (const [name, t] of Object.entries(spec.fixed ?? {})) x[name] = g.input(name, t.dtype, t.shape);
  const y = spec.build(x, g);
  const weights = g.constant(
    y.dtype,
    y.shape,
    Array.from({ length: numel(y.shape) }, () => rng.normal()),
  );
  const loss = sumAll(mul(y, weights));
  const wrt = Object.keys(spec.inputs).map((n) => x[n]!);
  const grads = grad(loss, wrt);
  g.output(loss, 'loss');
  grads.forEach((t, i) => g.output(t, `grad_${Object.keys(spec.inputs)[i]}`));
  const session = await GraphSession.load(encodeModel(g));

  const values: Record<string, Float64Array> = {};
  for (const [name, shape] of Object.entries(spec.inputs)) {
    const init = spec.init?.[name];
    values[name] = Float64Array.from({ length: numel(shape) }, () => (init ? init(rng) : rng.normal()));
  }
  const feeds = (vals: Record<string, Float64Array>): Record<string, HostTensor> => {
    const f: Record<string, HostTensor> = { ...spec.fixed };
    for (const [name, shape] of Object.entries(spec.inputs)) f[name] = { dtype, shape, data: hostArray(dtype as DType, vals[name]!) };
    return f;
  };
  const at = await session.run(feeds(values));
  const lossAt = async (vals: Record<string, Float64Array>) => Number((await session.run(feeds(vals), ['loss'])).loss!.data[0]);

  for (let d = 0; d < (spec.directions ?? 3); d++) {
    const v: Record<string, Float64Array> = {};
    let analytic = 0;
    for (const name of Object.keys(spec.inputs)) {
      v[name] = Float64Array.from(values[name]!, () => rng.normal());
      const gv = at[`grad_${name}`]!.data as Float64Array | Float32Array;
      v[name]!.forEach((vi, i) => (analytic += vi * gv[i]!));
    }
    const shifted = (sign: number) => Object.fromEntries(Object.entries(values).map(([n, a]) => [n, a.map((xi, i) => xi + sign * eps * v[n]![i]!)]));
    const numeric = ((await lossAt(shifted(1))) - (await lossAt(shifted(-1)))) / (2 * eps);
    expect(Math.abs(analytic - numeric), `direction ${d}: analytic ${analytic}, numeric ${numeric}`).toBeLessThanOrEqual(
      atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric)),
    );
  }
  await session.release();
}
