import { grad } from '../autodiff.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';
import { add } from '../ops/elementwise.js';
import { type AdamWConfig, adamWApplyGraph, appendAdamW, momentNames, UPDATED } from '../optim.js';
import { numel } from '../shape.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { type GraphSession, type HostTensor, sessionForGraph } from './session.js';

export interface TrainableModel {
  loss: Tensor;
  /** Trainable parameters, declared with graph.param(). */
  params: Tensor[];
  /** Other tensors to report each step (loss terms, predictions). */
  outputs?: Record<string, Tensor>;
  /** Starting values the model itself knows (weights it fine-tunes), by parameter name. */
  initialParams?: Record<string, Float32Array>;
}

export interface TrainerSpec {
  build: (graph: Graph) => TrainableModel;
  /** Starting values by parameter name, for those the model does not give itself. */
  initialParams?: Record<string, Float32Array>;
  optimizer?: AdamWConfig;
  /** Gradients of this many micro-batches are summed (averaged) before one optimizer step. */
  microBatches?: number;
  provider?: ExecutionProvider;
  /** Where compiled graphs are kept between runs (see compile-cache.ts); in memory when omitted. */
  cacheDir?: string;
}

export interface StepResult {
  /** Mean loss over the micro-batches. */
  loss: number;
  gradNorm: number;
  outputs: Record<string, HostTensor>;
  /** True when the step was skipped (non-finite gradients under loss scaling). */
  skipped?: boolean;
  /** The loss scale the next step uses (steps under loss scaling). */
  lossScale?: number;
}

/**
 * Everything a runner needs to take its next step exactly as it would have: the optimizer's step
 * count, the loss scale, and the parameters and AdamW moments by name (a run's checkpoint).
 */
export interface TrainerState {
  step: number;
  lossScale: number;
  goodSteps: number;
  tensors: Record<string, Float32Array>;
}

/** What runs training steps: one graph (`Trainer`) or checkpointed segments (`CheckpointedTrainer`). */
export interface StepRunner {
  readonly microBatches: number;
  step(batches: Array<Record<string, HostTensor>>, lr: number): Promise<StepResult>;
  /** The parameters' current values (read back from the device where they live there). */
  parameters(): Promise<Record<string, Float32Array>>;
  saveState(): Promise<TrainerState>;
  /** Restores a saved state; every parameter and moment of this runner must be in it, with its size. */
  loadState(state: TrainerState): Promise<void>;
  readonly fallback: string | null;
  release(): Promise<void>;
}

const NEW = UPDATED;
const ACC = '.grad_acc';

/**
 * Runs training steps of a model on onnxruntime: parameters and AdamW moments live
 * here between steps and go in and out of the step graph as tensors.
 */
export class Trainer implements StepRunner {
  private stepCount = 0;

  private constructor(
    private readonly params: Map<string, Float32Array>,
    private readonly moments: Map<string, Float32Array>,
    private readonly shapes: Map<string, readonly number[]>,
    private readonly fused: GraphSession | null,
    private readonly accumulate: GraphSession | null,
    private readonly apply: GraphSession | null,
    private readonly extraOutputs: string[],
    readonly microBatches: number,
  ) {}

  static async create(spec: TrainerSpec): Promise<Trainer> {
    const k = spec.microBatches ?? 1;
    const forward = new Graph('train');
    const model = spec.build(forward);
    const shapes = new Map(model.params.map((p) => [p.name, p.shape] as const));
    const params = new Map<string, Float32Array>();
    const moments = new Map<string, Float32Array>();
    for (const p of model.params) {
      const value = spec.initialParams?.[p.name] ?? model.initialParams?.[p.name];
      if (!value || value.length !== numel(p.shape)) throw new Error(`Initial value for parameter ${p.name} is missing or has the wrong size`);
      params.set(p.name, Float32Array.from(value));
      const names = momentNames(p.name);
      moments.set(names.m, new Float32Array(value.length));
      moments.set(names.v, new Float32Array(value.length));
    }
    const grads = grad(model.loss, model.params);
    forward.output(model.loss, 'loss');
    const extra = Object.keys(model.outputs ?? {});
    for (const [name, t] of Object.entries(model.outputs ?? {})) forward.output(t, name);
    const load = (g: Graph) => sessionForGraph(g, { provider: spec.provider, cacheDir: spec.cacheDir });

    if (k === 1) {
      appendAdamW(forward, model.params, grads, spec.optimizer);
      return new Trainer(params, moments, shapes, await load(forward), null, null, extra, 1);
    }

    // k micro-batches: one graph adds each batch's gradients into accumulators, another applies them.
    model.params.forEach((p, i) => {
      const acc = forward.input(p.name + ACC, 'float32', p.shape, 'state');
      forward.output(add(acc, grads[i]!), p.name + ACC + NEW);
    });
    const applyGraph = adamWApplyGraph(model.params, (p) => p.name + ACC, spec.optimizer, 1 / k);
    return new Trainer(params, moments, shapes, null, await load(forward), await load(applyGraph), extra, k);
  }

  /** One optimizer step over `batches` (one feed per micro-batch). */
  async step(batches: Array<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    if (batches.length !== this.microBatches) throw new Error(`Expected ${this.microBatches} micro-batches, got ${batches.length}`);
    this.stepCount++;
    const optim = { 'optim.lr': scalar(lr), 'optim.step': scalar(this.stepCount) };
    if (this.fused) {
      const out = await this.fused.run({ ...batches[0], ...this.paramFeeds(), ...this.momentFeeds(), ...optim });
      this.takeUpdates(out);
      return { loss: first(out.loss!), gradNorm: first(out.grad_norm!), outputs: this.pickExtra(out) };
    }
    const acc: Record<string, HostTensor> = {};
    for (const [name, shape] of this.shapes) acc[name + ACC] = { dtype: 'float32', shape, data: new Float32Array(numel(shape)) };
    let loss = 0;
    const extras: Array<Record<string, HostTensor>> = [];
    for (const batch of batches) {
      const out = await this.accumulate!.run({ ...batch, ...this.paramFeeds(), ...acc });
      for (const name of this.shapes.keys()) acc[name + ACC] = out[name + ACC + NEW]!;
      loss += first(out.loss!);
      extras.push(this.pickExtra(out));
    }
    const out = await this.apply!.run({ ...this.paramFeeds(), ...this.momentFeeds(), ...acc, ...optim });
    this.takeUpdates(out);
    return { loss: loss / batches.length, gradNorm: first(out.grad_norm!), outputs: mergeMicroBatchOutputs(extras) };
  }

  /** Why the requested execution provider is not in use, if it is not. */
  get fallback(): string | null {
    return (this.fused ?? this.accumulate)!.fallback;
  }

  /** Current parameter values by name. */
  async parameters(): Promise<Record<string, Float32Array>> {
    return Object.fromEntries(this.params);
  }

  async saveState(): Promise<TrainerState> {
    const tensors: Record<string, Float32Array> = {};
    for (const map of [this.params, this.moments]) for (const [n, data] of map) tensors[n] = data.slice();
    return { step: this.stepCount, lossScale: 1, goodSteps: 0, tensors };
  }

  async loadState(state: TrainerState): Promise<void> {
    for (const map of [this.params, this.moments]) for (const [n, data] of map) map.set(n, restored(state, n, data.length));
    this.stepCount = state.step;
  }

  async release(): Promise<void> {
    for (const s of [this.fused, this.accumulate, this.apply]) await s?.release();
  }

  private paramFeeds(): Record<string, HostTensor> {
    return Object.fromEntries([...this.params].map(([n, data]) => [n, { dtype: 'float32', shape: this.shapes.get(n)!, data }]));
  }

  private momentFeeds(): Record<string, HostTensor> {
    return Object.fromEntries([...this.moments].map(([n, data]) => [n, { dtype: 'float32', shape: this.shapes.get(n.replace(/\.adam_[mv]$/, ''))!, data }]));
  }

  private takeUpdates(out: Record<string, HostTensor>): void {
    for (const name of this.params.keys()) this.params.set(name, out[name + NEW]!.data as Float32Array);
    for (const name of this.moments.keys()) this.moments.set(name, out[name + NEW]!.data as Float32Array);
  }

  private pickExtra(out: Record<string, HostTensor>): Record<string, HostTensor> {
    return Object.fromEntries(this.extraOutputs.map((n) => [n, out[n]!]));
  }
}

/** A step's extra outputs over its micro-batches: scalars (loss terms) averaged like the loss, others from the last. */
export function mergeMicroBatchOutputs(perBatch: ReadonlyArray<Record<string, HostTensor>>): Record<string, HostTensor> {
  const last = perBatch[perBatch.length - 1] ?? {};
  if (perBatch.length < 2) return last;
  const merged: Record<string, HostTensor> = { ...last };
  for (const [name, t] of Object.entries(last)) {
    if (t.data.length !== 1) continue;
    const mean = perBatch.reduce((s, b) => s + Number(b[name]!.data[0]), 0) / perBatch.length;
    merged[name] = { dtype: 'float32', shape: t.shape, data: Float32Array.of(mean) };
  }
  return merged;
}

/** A tensor of a saved state, checked against the size the runner holds. */
export function restored(state: TrainerState, name: string, length: number): Float32Array {
  const t = state.tensors[name];
  if (!t || t.length !== length)
    throw new Error(`The saved training state has no ${name} of ${length} values (${t ? t.length : 'missing'}); it was written by other settings.`);
  return Float32Array.from(t);
}

const scalar = (v: number): HostTensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });
const first = (t: HostTensor) => Number(t.data[0]);
