// AdamW with global-norm gradient clipping, built into the graph so one session.run is one step.
import { Graph } from './graph.js';
import type { Tensor } from './ir.js';
import { add, div, min, mul, sqrt, sub } from './ops/elementwise.js';
import { sumAll } from './ops/reduce.js';

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global L2 norm of all gradients to this; omit for no clipping. */
  maxGradNorm?: number;
}

export interface AdamWTensors {
  /** Feeds: the learning rate (a scalar input so schedules need no rebuild) and the 1-based step count. */
  lr: Tensor;
  step: Tensor;
  /** Per parameter: moment inputs, and the updated parameter and moments. */
  slots: Array<{ param: Tensor; m: Tensor; v: Tensor; newParam: Tensor; newM: Tensor; newV: Tensor }>;
  /** The global gradient norm before clipping. */
  gradNorm: Tensor;
}

export const momentNames = (param: string) => ({ m: `${param}.adam_m`, v: `${param}.adam_v` });

/** Suffix of the outputs carrying a step's new parameter and moment values (`<input name>.new`). */
export const UPDATED = '.new';

/** Marks the update's new parameters, moments and the gradient norm as graph outputs. */
function outputAdamW(graph: Graph, adam: AdamWTensors): void {
  for (const s of adam.slots) {
    graph.output(s.newParam, s.param.name + UPDATED);
    graph.output(s.newM, s.m.name + UPDATED);
    graph.output(s.newV, s.v.name + UPDATED);
  }
  graph.output(adam.gradNorm, 'grad_norm');
}

/** Appends one AdamW update (see addAdamW) and marks its results as the graph's outputs. */
export function appendAdamW(
  graph: Graph,
  params: readonly Tensor[],
  grads: readonly Tensor[],
  config: AdamWConfig = {},
  gradScale: number | Tensor = 1,
): AdamWTensors {
  const adam = addAdamW(graph, params, grads, config, gradScale);
  outputAdamW(graph, adam);
  return adam;
}

/**
 * A graph of its own that applies one AdamW update to `params` from gradients fed as inputs (named by
 * `gradInput`), scaled by a number or, with 'fed', by a scalar input `grad_scale` (set per step).
 */
export function adamWApplyGraph(
  params: readonly Tensor[],
  gradInput: (param: Tensor) => string,
  config: AdamWConfig | undefined,
  gradScale: number | 'fed',
): Graph {
  const graph = new Graph('apply');
  const ps = params.map((p) => graph.param(p.name, p.shape));
  const grads = params.map((p) => graph.input(gradInput(p), 'float32', p.shape));
  appendAdamW(graph, ps, grads, config, gradScale === 'fed' ? graph.input('grad_scale', 'float32', []) : gradScale);
  return graph;
}

/**
 * Appends one AdamW update (decoupled weight decay, bias correction from `step`) of
 * `params` by `grads`, after scaling grads by `gradScale` (1/k for k accumulated micro-batches).
 */
export function addAdamW(
  graph: Graph,
  params: readonly Tensor[],
  grads: readonly Tensor[],
  config: AdamWConfig = {},
  gradScale: number | Tensor = 1,
): AdamWTensors {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-2, maxGradNorm } = config;
  const lr = graph.input('optim.lr', 'float32', []);
  const step = graph.input('optim.step', 'float32', []);
  let scaled = gradScale === 1 ? grads : grads.map((g) => mul(g, gradScale));

  // 1. Global norm over every gradient, and clipping
  const gradNorm = sqrt(scaled.map((g) => sumAll(mul(g, g))).reduce((a, b) => add(a, b)));
  if (maxGradNorm !== undefined) {
    const factor = min(div(graph.scalar(maxGradNorm), add(gradNorm, 1e-6)), graph.scalar(1));
    scaled = scaled.map((g) => mul(g, factor));
  }

  // 2. Bias corrections 1 − βᵗ
  const correction = (beta: number) => sub(1, graph.addNode('Pow', [graph.scalar(beta), step], {}, [{ dtype: 'float32', shape: [] }])[0]!);
  const c1 = correction(beta1);
  const c2 = correction(beta2);

  // 3. Moments and the update, per parameter
  const slots = params.map((param, i) => {
    const g = scaled[i]!;
    const names = momentNames(param.name);
    const m = graph.input(names.m, 'float32', param.shape, 'state');
    const v = graph.input(names.v, 'float32', param.shape, 'state');
    const newM = add(mul(m, beta1), mul(g, 1 - beta1));
    const newV = add(mul(v, beta2), mul(mul(g, g), 1 - beta2));
    const update = div(div(newM, c1), add(sqrt(div(newV, c2)), eps));
    const newParam = sub(param, mul(lr, add(update, mul(param, weightDecay))));
    return { param, m, v, newParam, newM, newV };
  });
  return { lr, step, slots, gradNorm };
}
