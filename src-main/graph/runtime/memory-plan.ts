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
  /**
   * What the process holds besides the step (its code, runtime and other models; not the weights the
   * step shares), counted in the peak: on the CPU the process's resident memory is all one.
   */
  processBytes?: number;
  /** Spend part of the room left over on storing activations instead of recomputing them (default true). */
  spendSpare?: boolean;
  /**
   * The largest buffer one shader may bind (WebGPU's maxStorageBufferBindingSize): attention is split so
   * its scores stay under it, and a step with any other tensor over it is refused before it runs.
   */
  bindingLimitBytes?: number;
}

export interface MemoryPlan {
  mode: 'one-graph' | 'checkpointed';
  microBatches: number;
  /** Samples per micro-batch. */
  microBatch: number;
  /** Estimated bytes: the process besides the step, frozen weights, trainable state (params, moments, gradients), activations, and their sum. */
  estimate: { process: number; weights: number; trainable: number; activations: number; peak: number };
  availableBytes: number;
  /** Segments that keep their activations from the forward instead of recomputing them (counted in activations). */
  stored: { segments: number; of: number; bytes: number } | null;
  /** Splits one step's feeds (batch first on every input) into the micro-batches. */
  split(feeds: Record<string, HostTensor>): Array<Record<string, HostTensor>>;
}

/** Leave this share of the available memory to everything else (allocator slack, the OS, the UI). */
const HEADROOM = 0.85;
/**
 * The share of the room left under the budget that storing activations may take: the rest stays free
 * for other programs' growth (the run's memory watch stops it, saved, if they take more).
 */
const SPARE_SHARE = 0.5;
/**
 * What the step's activations take in resident memory, from the schedule's own figure (memory-timeline.ts):
 * the allocators' overhead on the step's buffers (freed blocks kept for reuse do not always fit the next
 * request) as a factor, and onnxruntime's own memory for the step's sessions and kernel workspace as a
 * constant. Fitted to six measured stage peaks of the SD 1.5-shaped step at batch 4 (docs/performance.md, "The memory
 * plan against the measured peak"), so that the estimate lands between the measured peak and 10 % above it.
 */
export const ALLOCATOR_SLACK = 1.35;
export const STEP_RUNTIME_BYTES = 2 ** 30;
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
  if (plan.mode === 'one-graph') return { runner: await Trainer.create({ ...spec, build, microBatches: plan.microBatches }), plan };
  const spare = request.spendSpare === false ? 0 : Math.max(0, plan.availableBytes * HEADROOM - plan.estimate.peak - STEP_RUNTIME_BYTES) * SPARE_SHARE;
  const runner = await CheckpointedTrainer.create({
    ...spec,
    build,
    microBatches: plan.microBatches,
    keepActivationBytes: spare,
    attentionScoreLimit: scoreLimit(request),
  });
  const { storedSegments, storedBytes, backwardRuns, activationBytes } = runner.plan;
  const stored = { segments: storedSegments, of: backwardRuns, bytes: storedBytes };
  // the built schedule's own figure (stored residuals included) replaces the formula's
  const e = plan.estimate;
  const activations = activationBytes * ALLOCATOR_SLACK + STEP_RUNTIME_BYTES;
  return { runner, plan: { ...plan, stored, estimate: { ...e, activations, peak: e.peak - e.activations + activations } } };
}

export function planStep(build: StepBuild, request: PlanRequest): MemoryPlan {
  const available = request.availableBytes ?? availableMemory();
  const budget = available * HEADROOM;
  let smallest = Infinity;
  let tooLarge: { name: string; bytes: number } | null = null;
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
      const { estimate, largest } = measureStep(build, mb, mode, request.processBytes ?? 0, scoreLimit(request));
      smallest = Math.min(smallest, estimate.peak);
      if (request.bindingLimitBytes && largest.bytes > request.bindingLimitBytes) {
        tooLarge = largest;
        continue;
      }
      if (mode === 'one-graph' && !request.mode && estimate.activations > ONE_GRAPH_MAX_ACTIVATIONS) continue;
      if (estimate.peak <= budget)
        return { mode, microBatches: k, microBatch: mb, estimate, availableBytes: available, stored: null, split: (feeds) => splitBatch(feeds, k) };
    }
  }
  if (tooLarge && smallest <= budget) {
    throw new AppError(
      'out-of-memory',
      `The ${request.label} cannot run on this GPU: its tensor ${tooLarge.name} (${mib(tooLarge.bytes)}) is larger than the ${mib(request.bindingLimitBytes!)} ` +
        'one GPU buffer may hold here. Run it on the CPU, or on a GPU that computes in float16 (it halves every tensor).',
    );
  }
  throw new AppError(
    'out-of-memory',
    `The ${request.label} does not fit: it needs about ${gb(smallest)} even as checkpointed micro-batches of ${request.microBatches ? request.batch / request.microBatches : 1}, and ${gb(available)} is free. ` +
      'Close other programs, use a smaller photo resolution, or run on a GPU with more memory (float16 halves the need).',
  );
}

/** Bytes a step needs: weights + trainable state + the activations its mode keeps at its worst moment. */
export function estimateStep(build: StepBuild, microBatch: number, mode: MemoryPlan['mode'], process = 0, limit = DEFAULT_SCORE_LIMIT): MemoryPlan['estimate'] {
  return measureStep(build, microBatch, mode, process, limit).estimate;
}

/** The estimate, and the step's largest tensor (a weight or an activation: what one GPU binding must hold). */
function measureStep(build: StepBuild, microBatch: number, mode: MemoryPlan['mode'], process: number, limit: number) {
  const g = new Graph('estimate');
  g.attentionScoreLimit = mode === 'checkpointed' ? limit : null;
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
  let largest = { name: '', bytes: 0 };
  for (const t of [...g.initializers.map((i) => i.tensor), ...g.nodes.flatMap((n) => n.outputs)])
    if (bytes(t) > largest.bytes) largest = { name: t.name, bytes: bytes(t) };
  const estimate: MemoryPlan['estimate'] = { process, weights, trainable, activations, peak: process + weights + trainable + activations };
  return { estimate, largest };
}

/** Elements of one attention score tensor: the default, fewer where float32 scores would pass the binding limit. */
const scoreLimit = (r: PlanRequest) => (r.bindingLimitBytes ? Math.min(DEFAULT_SCORE_LIMIT, Math.floor(r.bindingLimitBytes / 4)) : DEFAULT_SCORE_LIMIT);

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

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
  const stored = plan.stored?.segments
    ? `; ${plan.stored.segments} of ${plan.stored.of} segments keep their activations (${gb(plan.stored.bytes)}) instead of recomputing them`
    : '';
  return (
    `${plan.mode}, ${plan.microBatches} micro-batch${plan.microBatches > 1 ? 'es' : ''} of ${plan.microBatch}${stored}; ` +
    `estimated peak ${gb(e.peak)} (${e.process ? `the process ${gb(e.process)}, ` : ''}weights ${gb(e.weights)}, trainable state ${gb(e.trainable)}, activations ${gb(e.activations)}) of ${gb(plan.availableBytes)} available`
  );
}

/** Bytes as the plan's messages write them (GiB, written GB as the system monitors do). */
export const formatGb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
const gb = formatGb;

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
