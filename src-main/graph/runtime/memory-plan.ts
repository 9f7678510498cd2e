// How a training step runs within the memory it has: one graph when that fits (fastest), else
// checkpointed segments; the batch split into micro-batches when even that does not fit. Decided
// from an estimate before anything is loaded, so a step that cannot fit is refused with numbers.
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { AppError } from '../../common/app-error.js';
import { BYTES_PER_ELEMENT, isFloat } from '../dtype.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';
import { partition } from '../segments/partition.js';
import { numel } from '../shape.js';
import { CheckpointedTrainer, type CheckpointedTrainerSpec, DEFAULT_SCORE_LIMIT } from './checkpointed-trainer.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { type HostTensor, keepsTensorsOnDevice } from './session.js';
import { type StepRunner, Trainer, type TrainableModel } from './trainer.js';

export interface PlanRequest {
  /** What the step is, for messages ("Stage I step"). */
  label: string;
  /** The batch one optimizer step is over; micro-batches split it. */
  batch: number;
  /** Memory the step may use; the system's available memory (GPU: its free memory) when omitted. */
  availableBytes?: number;
  /** Force a mode (tests, benchmarks, a resumed run); the estimate still decides the micro-batches. */
  mode?: MemoryPlan['mode'];
  /** Force the micro-batch count (the user's choice, or a resumed run's, so it sums its gradients as before). */
  microBatches?: number;
  /**
   * Where the step runs. On a provider that keeps tensors on the device only the checkpointed runner is
   * planned: it keeps parameters and optimizer state there, where the one-graph runner moves them through the host each step.
   */
  provider?: ExecutionProvider;
}

export interface MemoryPlan {
  mode: 'one-graph' | 'checkpointed';
  microBatches: number;
  /** Samples per micro-batch. */
  microBatch: number;
  /** Estimated bytes: frozen weights, trainable state (params, moments, gradients), activations, and their sum. */
  estimate: { weights: number; trainable: number; activations: number; peak: number };
  availableBytes: number;
  /** Splits one step's feeds (batch first on every input) into the micro-batches. */
  split(feeds: Record<string, HostTensor>): Array<Record<string, HostTensor>>;
}

/** Leave this share of the available memory to everything else (allocator slack, the OS, the UI). */
const HEADROOM = 0.85;
/**
 * One graph only for steps whose activations are small: there it saves the sessions' overhead, while
 * a large one-graph step holds every activation at once and runs slower than its segments (measured:
 * SD 1.5 UNet, batch 1, 19 GB and 2.3× slower than checkpointed; docs/performance.md).
 */
const ONE_GRAPH_MAX_ACTIVATIONS = 2 ** 30;

export type StepBuild = (g: Graph, microBatch: number) => TrainableModel;

/**
 * Picks the plan for `spec` (whose build gets the micro-batch size) and creates its step runner.
 * `estimate` builds the same step without weight values, for the plan (the build itself when omitted).
 */
export async function createStepRunner(
  spec: Omit<CheckpointedTrainerSpec, 'build' | 'microBatches'> & { build: StepBuild; estimate?: StepBuild },
  request: PlanRequest,
): Promise<{ runner: StepRunner; plan: MemoryPlan }> {
  const plan = planStep(spec.estimate ?? spec.build, request);
  const build = (g: Graph) => spec.build(g, plan.microBatch);
  const runner =
    plan.mode === 'one-graph'
      ? await Trainer.create({ ...spec, build, microBatches: plan.microBatches })
      : await CheckpointedTrainer.create({ ...spec, build, microBatches: plan.microBatches });
  return { runner, plan };
}

export function planStep(build: StepBuild, request: PlanRequest): MemoryPlan {
  const available = request.availableBytes ?? availableMemory();
  const budget = available * HEADROOM;
  let smallest = Infinity;
  if (request.microBatches && request.batch % request.microBatches !== 0) {
    throw new AppError('invalid-input', `A batch of ${request.batch} does not split into ${request.microBatches} micro-batches; pick a divisor of the batch.`);
  }
  for (const k of request.microBatches ? [request.microBatches] : divisors(request.batch)) {
    const mb = request.batch / k;
    const modes = request.mode
      ? [request.mode]
      : request.provider && keepsTensorsOnDevice(request.provider)
        ? (['checkpointed'] as const)
        : (['one-graph', 'checkpointed'] as const);
    for (const mode of modes) {
      const estimate = estimateStep(build, mb, mode);
      smallest = Math.min(smallest, estimate.peak);
      if (mode === 'one-graph' && !request.mode && estimate.activations > ONE_GRAPH_MAX_ACTIVATIONS) continue;
      if (estimate.peak <= budget)
        return { mode, microBatches: k, microBatch: mb, estimate, availableBytes: available, split: (feeds) => splitBatch(feeds, k) };
    }
  }
  throw new AppError(
    'out-of-memory',
    `The ${request.label} does not fit: it needs about ${gb(smallest)} even as checkpointed micro-batches of ${request.microBatches ? request.batch / request.microBatches : 1}, and ${gb(available)} is free. ` +
      'Close other programs, use a smaller photo resolution, or run on a GPU with more memory (float16 halves the need).',
  );
}

/** Bytes a step needs: weights + trainable state + the activations its mode keeps at its worst moment. */
export function estimateStep(build: StepBuild, microBatch: number, mode: MemoryPlan['mode']) {
  const g = new Graph('estimate');
  g.attentionScoreLimit = mode === 'checkpointed' ? DEFAULT_SCORE_LIMIT : null;
  const model = build(g, microBatch);
  const bytes = (t: Tensor) => numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
  let weights = 0;
  for (const init of g.initializers) weights += init.value.kind === 'external' ? init.value.ref.length : init.value.data.byteLength;
  // param, two moments, gradient and its accumulator, and the update's output
  const trainable = model.params.reduce((s, p) => s + bytes(p), 0) * 6;
  let activations: number;
  if (mode === 'one-graph') {
    // the backward keeps (nearly) every float intermediate of the forward alive at once
    activations = g.nodes.reduce((s, n) => s + n.outputs.reduce((a, o) => a + (isFloat(o.dtype) ? bytes(o) : 0), 0), 0);
  } else {
    // checkpoints stay; the worst segment holds its forward again, and as much for its gradients
    const segments = partition(g, [model.loss, ...Object.values(model.outputs ?? {})]);
    const checkpoints = new Set(segments.flatMap((s) => s.exports));
    const kept = [...checkpoints].reduce((s, t) => s + bytes(t), 0);
    const worst = Math.max(...segments.map((s) => s.nodes.reduce((a, n) => a + n.outputs.reduce((b, o) => b + (isFloat(o.dtype) ? bytes(o) : 0), 0), 0)));
    activations = kept + 2 * worst;
  }
  return { weights, trainable, activations, peak: weights + trainable + activations };
}

/** Memory the system can give now: MemAvailable on Linux, free memory elsewhere. */
export function availableMemory(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

export function describePlan(plan: Omit<MemoryPlan, 'split'>): string {
  const e = plan.estimate;
  return (
    `${plan.mode}, ${plan.microBatches} micro-batch${plan.microBatches > 1 ? 'es' : ''} of ${plan.microBatch}; ` +
    `estimated peak ${gb(e.peak)} (weights ${gb(e.weights)}, trainable state ${gb(e.trainable)}, activations ${gb(e.activations)}) of ${gb(plan.availableBytes)} available`
  );
}

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((k) => n % k === 0);

export function splitBatch(feeds: Record<string, HostTensor>, k: number): Array<Record<string, HostTensor>> {
  if (k === 1) return [feeds];
  return Array.from({ length: k }, (_, i) =>
    Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => {
        const per = t.shape[0]! / k;
        if (!Number.isInteger(per)) throw new Error(`${name}: batch ${t.shape[0]} does not split into ${k}`);
        const size = t.data.length / t.shape[0]!;
        return [name, { ...t, shape: [per, ...t.shape.slice(1)], data: t.data.slice(i * per * size, (i + 1) * per * size) } as HostTensor];
      }),
    ),
  );
}
