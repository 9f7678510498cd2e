// Training steps in bounded memory: the step graph is cut at its checkpoints into segments, each
// run as its own onnxruntime session. Forward segments keep only the tensors that cross a cut;
// each backward segment recomputes its own forward from them. onnxruntime schedules one graph as
// it likes, so a recompute inside one graph could be merged away or run early: separate sessions
// make the bound hold. Parameters, optimizer state, checkpoints and gradients stay in onnxruntime
// tensors between runs: on the CPU in pooled buffers the outputs are written into; on a GPU provider
// that can keep them (WebGPU) in device memory, so only the step's changing inputs go up and its
// scalars come back (transfers.ts counts both). Frozen weights are one shared tensor each.
import { Graph } from '../graph.js';
import type { Initializer, Tensor } from '../ir.js';
import { adamWApplyGraph, momentNames, UPDATED as NEW } from '../optim.js';
import { numel } from '../shape.js';
import {
  accName,
  backwardGraph,
  type BackwardSpec,
  forwardGraph,
  gradName,
  gradientFlow,
  LOSS_SCALE,
  partition,
  type SegmentGraph,
} from '../segments/partition.js';
import { BYTES_PER_ELEMENT } from '../dtype.js';
import { graphKey } from './compile-cache.js';
import { intermediatePeak, stepActivationPeak } from './memory-timeline.js';
import { BufferPool } from './buffer-pool.js';
import { DeviceTransfers, disposeTensor } from './device-tensors.js';
import { type GraphSession, type HostTensor, keepsTensorsOnDevice, ort, type OrtTensor, sessionForGraph, toOrtTensor } from './session.js';
import { mergeMicroBatchOutputs, restored, type StepResult, type StepRunner, type TrainerSpec, type TrainerState } from './trainer.js';
import { isSharedWeight, WeightPool } from './weight-pool.js';

export interface CheckpointedTrainerSpec extends TrainerSpec {
  /** Frozen weights shared with other trainers and samplers of the same model (one made if omitted). */
  weights?: WeightPool;
  /** Dynamic loss scaling (float16 steps): start, and the factor it falls by after an overflow. */
  lossScale?: { initial: number; backoff?: number; growthInterval?: number };
  /** Most elements of one attention score tensor (see nn.attention); 2²⁴ (64 MB in float32) by default. */
  attentionScoreLimit?: number | null;
  /**
   * Memory to spend on not recomputing: segments whose backward would recompute the most per byte kept
   * keep their activations from the forward, up to this many bytes at once (0, the default: recompute all).
   */
  keepActivationBytes?: number;
}

/**
 * The segments to store within `budget`: all their residuals are alive together when the backward begins,
 * so their bytes add up; the ones that save the most recompute per byte go first.
 */
export function chooseStored(candidates: ReadonlyArray<{ index: number; bytes: number; cost: number }>, budget: number): Map<number, number> {
  const chosen = new Map<number, number>();
  let spent = 0;
  const byValue = [...candidates].sort((a, b) => b.cost / Math.max(b.bytes, 1) - a.cost / Math.max(a.bytes, 1));
  for (const c of byValue) {
    if (c.cost === 0 || spent + c.bytes > budget) continue;
    chosen.set(c.index, c.bytes);
    spent += c.bytes;
  }
  return chosen;
}

const tensorBytes = (t: Tensor) => numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];

export const DEFAULT_SCORE_LIMIT = 1 << 24;

interface Run {
  session: GraphSession;
  /** Bytes its session's intermediates hold at most (memory-timeline.ts). */
  internal: number;
  /** Each session input (slot), the step value it takes (name), and where that comes from. */
  inputs: Array<{ slot: string; name: string; from: 'value' | 'weight' | 'data' | 'param' | 'loss_scale' }>;
  outputs: Array<{ slot: string; name: string; dtype: Tensor['dtype']; shape: readonly number[] }>;
}

export class CheckpointedTrainer implements StepRunner {
  private stepCount = 0;
  private lossScale: number;
  private goodSteps = 0;
  /** Skipped steps (non-finite gradients under loss scaling) so far. */
  skippedSteps = 0;

  private constructor(
    private readonly runs: { forward: Run[]; backward: Run[] },
    private readonly apply: Run,
    private readonly params: Map<string, OrtTensor>,
    private readonly moments: Map<string, OrtTensor>,
    private readonly paramShapes: Map<string, readonly number[]>,
    private readonly weightTensors: Map<string, OrtTensor>,
    /** The loss's value name, and each extra output's value name → its name in the step's result. */
    private readonly targets: { loss: string; extra: Map<string, string> },
    /** After which run (forward runs first, then backward) each value is no longer needed. */
    private readonly lastUse: Map<string, number>,
    private readonly pool: BufferPool,
    private readonly scaling: CheckpointedTrainerSpec['lossScale'],
    /** Uploads and readbacks when values live on the device; null on the CPU. */
    private readonly device: DeviceTransfers | null,
    readonly microBatches: number,
    /** Segments, sessions and checkpoints, for the job's log. */
    readonly plan: {
      segments: number;
      activationBytes: number;
      storedSegments: number;
      recomputingSegments: number;
      storedBytes: number;
      forwardRuns: number;
      backwardRuns: number;
      sessions: number;
      sharedWeightBytes: number;
    },
  ) {
    this.lossScale = scaling?.initial ?? 1;
  }

  static async create(spec: CheckpointedTrainerSpec): Promise<CheckpointedTrainer> {
    const k = spec.microBatches ?? 1;
    const source = new Graph('train');
    source.attentionScoreLimit = spec.attentionScoreLimit === undefined ? DEFAULT_SCORE_LIMIT : spec.attentionScoreLimit;
    const model = spec.build(source);
    const extra = Object.entries(model.outputs ?? {});
    const segments = partition(source, [model.loss, ...extra.map(([, t]) => t)]);
    const flow = gradientFlow(segments, source, model.loss, model.params);
    const pool = spec.weights ?? new WeightPool();
    const device = spec.provider && keepsTensorsOnDevice(spec.provider) ? DeviceTransfers.of(spec.provider) : null;
    const load = (g: Graph) => sessionForGraph(g, { provider: spec.provider, cacheDir: spec.cacheDir, manySessions: true, keepOnDevice: !!device });
    const weightInits = new Map<string, Initializer>();
    const paramNames = new Set(model.params.map((p) => p.name));
    const dataNames = new Set(source.inputs.filter((i) => i.role === 'data').map((i) => i.tensor.name));
    const weightTensors = new Map<string, OrtTensor>();
    const byName = new Map<string, Tensor>();
    for (const seg of segments) for (const t of seg.reads) byName.set(t.name, t);
    // segments of one structure on the same weights share a session (see SegmentGraph)
    const sessions = new Map<string, Promise<GraphSession>>();
    const internals = new Map<string, number>();
    const toRun = async (sg: SegmentGraph): Promise<Run> => {
      const key = graphKey(sg.graph);
      if (!sessions.has(key)) sessions.set(key, load(sg.graph));
      if (!internals.has(key)) internals.set(key, intermediatePeak(sg.graph));
      const inputs = sg.graph.inputs.map(({ tensor: { name: slot } }) => {
        const name = sg.inputs.get(slot) ?? slot;
        if (name === LOSS_SCALE) return { slot, name, from: 'loss_scale' as const };
        if (paramNames.has(name)) return { slot, name, from: 'param' as const };
        if (dataNames.has(name)) return { slot, name, from: 'data' as const };
        const read = byName.get(name);
        const init = read && source.initializerOf(read);
        if (init) {
          weightInits.set(name, init);
          return { slot, name, from: 'weight' as const };
        }
        return { slot, name, from: 'value' as const };
      });
      const outputs = sg.graph.outputs.map((o) => ({ slot: o.name, name: sg.outputs.get(o.name)!, dtype: o.tensor.dtype, shape: o.tensor.shape }));
      return { session: await sessions.get(key)!, internal: internals.get(key)!, inputs, outputs };
    };

    // 1. Forward and backward sessions per segment; reads given a gradient by several segments accumulate.
    // Segments whose residuals fit `keepActivationBytes` keep them from the forward instead of recomputing.
    const contributed = new Set<Tensor>(model.params); // params always add into the step's accumulators
    const plain = new Map<number, { spec: BackwardSpec; graph: ReturnType<typeof backwardGraph> }>();
    for (let i = segments.length - 1; i >= 0; i--) {
      const { gradOut, gradIn } = flow[i]!;
      if (!gradOut.length) continue;
      const accumulate = new Set(gradIn.filter((t) => contributed.has(t)));
      for (const t of gradIn) contributed.add(t);
      const bwSpec: BackwardSpec = { gradOut, gradIn, accumulate, loss: gradOut.includes(model.loss) ? model.loss : null };
      plain.set(i, { spec: bwSpec, graph: backwardGraph(segments[i]!, source, isSharedWeight, bwSpec) });
    }
    // a residual the segment exports anyway (a checkpoint) costs nothing more to keep
    const extraResiduals = (i: number) => {
      const exported = new Set(segments[i]!.exports);
      return plain.get(i)!.graph.residuals.filter((t) => !exported.has(t));
    };
    const stored = chooseStored(
      [...plain].map(([i, { graph }]) => ({ index: i, bytes: extraResiduals(i).reduce((a, t) => a + tensorBytes(t), 0), cost: graph.recomputedElements })),
      spec.keepActivationBytes ?? 0,
    );
    const forward: Run[] = [];
    const backward: Run[] = [];
    for (const [i, { spec: bwSpec, graph }] of plain) {
      backward.push(await toRun(stored.has(i) ? backwardGraph(segments[i]!, source, isSharedWeight, bwSpec, graph.residuals) : graph));
    }
    for (const s of segments) forward.push(await toRun(forwardGraph(s, source, isSharedWeight, stored.has(s.index) ? extraResiduals(s.index) : [])));

    // 2. The optimizer: AdamW on the accumulated gradients, scaled by 1/(k · loss scale)
    const applyGraph = adamWApplyGraph(model.params, gradName, spec.optimizer, 'fed');
    const applySession = await load(applyGraph);
    const apply: Run = {
      session: applySession,
      internal: intermediatePeak(applyGraph),
      inputs: applyGraph.inputs.map((i) => ({ slot: i.tensor.name, name: i.tensor.name, from: 'value' as const })),
      outputs: applyGraph.outputs.map((o) => ({ slot: o.name, name: o.name, dtype: o.tensor.dtype, shape: o.tensor.shape })),
    };

    // 3. Frozen weights (uploaded once, on a GPU), parameters and moments as onnxruntime tensors
    const names = [...weightInits.keys()];
    const shared = device ? await pool.deviceTensors([...weightInits.values()], device.provider) : [...weightInits.values()].map((i) => pool.tensor(i));
    names.forEach((n, i) => weightTensors.set(n, shared[i]!));
    const params = new Map<string, OrtTensor>();
    const moments = new Map<string, OrtTensor>();
    const paramShapes = new Map<string, readonly number[]>();
    for (const p of model.params) {
      const value = spec.initialParams?.[p.name] ?? model.initialParams?.[p.name];
      if (!value || value.length !== numel(p.shape)) throw new Error(`Initial value for parameter ${p.name} is missing or has the wrong size`);
      params.set(p.name, new ort.Tensor('float32', Float32Array.from(value), [...p.shape]));
      const names = momentNames(p.name);
      moments.set(names.m, new ort.Tensor('float32', new Float32Array(value.length), [...p.shape]));
      moments.set(names.v, new ort.Tensor('float32', new Float32Array(value.length), [...p.shape]));
      paramShapes.set(p.name, p.shape);
    }
    if (device) for (const map of [params, moments]) await toDevice(map, device);

    // 4. When each checkpoint or gradient can go back to the pool: after its last reader
    const lastUse = new Map<string, number>();
    [...forward, ...backward].forEach((r, i) => {
      for (const input of r.inputs) if (input.from === 'value') lastUse.set(input.name, i);
    });
    // the step's activations at their worst, from this schedule (the optimizer's own intermediates included)
    const isParamGrad = (name: string) => name.startsWith(GRAD_PREFIX) && paramNames.has(name.slice(GRAD_PREFIX.length));
    const activationBytes = stepActivationPeak([...forward, ...backward, { ...apply, outputs: [] }], lastUse, isParamGrad);
    const plan = {
      segments: segments.length,
      activationBytes,
      storedSegments: stored.size,
      recomputingSegments: [...plain].filter(([i, { graph }]) => graph.recomputedElements > 0 && !stored.has(i)).length,
      storedBytes: [...stored.values()].reduce((a, b) => a + b, 0),
      forwardRuns: forward.length,
      backwardRuns: backward.length,
      sessions: sessions.size + 1,
      sharedWeightBytes: pool.heldBytes + pool.deviceHeldBytes,
    };
    const targets = { loss: model.loss.name, extra: new Map(extra.map(([name, t]) => [t.name, name])) };
    return new CheckpointedTrainer(
      { forward, backward },
      apply,
      params,
      moments,
      paramShapes,
      weightTensors,
      targets,
      lastUse,
      new BufferPool(),
      spec.lossScale,
      device,
      k,
      plan,
    );
  }
  /** Per-run times when SINGLEINSERT_PROFILE is set (benchmarks). */
  readonly profile: Array<{ run: number; kind: string; ms: number; outputs: string }> = [];
  /** The step's inputs as last uploaded, by name: an input whose bytes did not change is not sent again (the photo). */
  private readonly uploaded = new Map<string, { host: HostTensor; device: OrtTensor }>();
  /** Device tensors that live until release: zero accumulators by shape, the loss scale. */
  private readonly deviceZeros = new Map<string, OrtTensor>();
  /** Tensors that outlive every step (the zeros): never freed by give(). */
  private readonly persistent = new Set<OrtTensor>();
  private deviceScale: { value: number; tensor: OrtTensor } | null = null;

  async step(batches: Array<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    if (batches.length !== this.microBatches) throw new Error(`Expected ${this.microBatches} micro-batches, got ${batches.length}`);
    const grads = new Map<string, OrtTensor>(); // param gradients, summed over micro-batches
    let loss = 0;
    const extras: Array<Record<string, HostTensor>> = [];
    const scale = await this.lossScaleTensor();
    for (const [b, batch] of batches.entries()) {
      const data = await this.dataTensors(batch, b);
      const values = new Map<string, OrtTensor>(grads);
      const runs = [...this.runs.forward, ...this.runs.backward];
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i]!;
        const feeds: Record<string, OrtTensor> = {};
        for (const { slot, name, from } of r.inputs) {
          const t =
            from === 'value'
              ? await this.valueFor(name, values)
              : from === 'weight'
                ? this.weightTensors.get(name)
                : from === 'data'
                  ? data[name]
                  : from === 'param'
                    ? this.params.get(name)
                    : scale;
          if (!t) throw new Error(`Internal: no value for ${name} in run ${i}`);
          feeds[slot] = t;
        }
        const started = PROFILE ? performance.now() : 0;
        const fetched = await this.runOne(r, feeds);
        if (PROFILE)
          this.profile.push({
            run: i,
            kind: i < this.runs.forward.length ? 'fwd' : 'bwd',
            ms: performance.now() - started,
            outputs: r.outputs.map((o) => o.name).join(' '),
          });
        for (const o of r.outputs) {
          const old = values.get(o.name);
          values.set(o.name, fetched[o.slot]!);
          if (old) this.give(old);
        }
        // checkpoints and gradients nobody reads any more go back to the pool (or are freed on the device)
        for (const { name, from } of r.inputs) {
          if (from !== 'value' || name.startsWith(ACC_PREFIX) || this.lastUse.get(name) !== i || this.isKept(name)) continue;
          const t = values.get(name);
          if (t) this.give(t);
          values.delete(name);
        }
      }
      // the scalars and small outputs the step reports: the only readback of a micro-batch
      const reported = [this.targets.loss, ...this.targets.extra.keys()];
      const host = await this.toHost(reported.map((n) => values.get(n)!));
      loss += Number(host[0]!.data[0]);
      const outputs: Record<string, HostTensor> = {};
      [...this.targets.extra.values()].forEach((outName, i) => {
        const t = host[i + 1]!;
        outputs[outName] = { dtype: t.dtype, shape: t.shape, data: (t.data as Float32Array).slice() as HostTensor['data'] };
      });
      extras.push(outputs);
      for (const name of this.params.keys()) {
        const g = values.get(GRAD_PREFIX + name);
        if (g) grads.set(GRAD_PREFIX + name, g);
      }
      for (const [name, t] of values) if (!grads.has(name)) this.give(t);
    }
    return this.applyUpdate(grads, loss / batches.length, lr, mergeMicroBatchOutputs(extras));
  }

  /** One session run: on the CPU into pooled buffers, on the device into tensors it allocates. */
  private async runOne(r: Run, feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
    if (this.device)
      return r.session.runOnDevice(
        feeds,
        r.outputs.map((o) => o.slot),
      );
    const fetches: Record<string, OrtTensor> = {};
    for (const o of r.outputs) fetches[o.slot] = this.pool.take(o.dtype, o.shape);
    await r.session.runTensors(feeds, fetches);
    return fetches;
  }

  /** A value no longer needed: its buffer back to the pool, or its device memory freed. */
  private give(t: OrtTensor): void {
    if (this.device) {
      if (!this.persistent.has(t)) disposeTensor(t);
    } else this.pool.give(t);
  }

  private async toHost(tensors: OrtTensor[]): Promise<HostTensor[]> {
    if (this.device) return this.device.readback(tensors);
    return tensors.map((t) => ({ dtype: t.type as HostTensor['dtype'], shape: t.dims, data: t.data as HostTensor['data'] }));
  }

  /** The micro-batch's inputs as tensors where the sessions run; on the device, unchanged ones are not uploaded again. */
  private async dataTensors(batch: Record<string, HostTensor>, index: number): Promise<Record<string, OrtTensor>> {
    if (!this.device) return Object.fromEntries(Object.entries(batch).map(([n, t]) => [n, toOrtTensor(t)]));
    const out: Record<string, OrtTensor> = {};
    const changed: Array<[string, HostTensor]> = [];
    for (const [name, t] of Object.entries(batch)) {
      const key = `${index}:${name}`;
      const known = this.uploaded.get(key);
      if (known && sameHostTensor(known.host, t)) out[name] = known.device;
      else changed.push([name, t]);
    }
    const sent = await this.device.upload(changed.map(([, t]) => t));
    changed.forEach(([name, t], i) => {
      const key = `${index}:${name}`;
      const old = this.uploaded.get(key);
      if (old) disposeTensor(old.device);
      this.uploaded.set(key, { host: { ...t, data: t.data.slice() as HostTensor['data'] }, device: sent[i]! });
      out[name] = sent[i]!;
    });
    return out;
  }

  private async lossScaleTensor(): Promise<OrtTensor> {
    if (!this.device) return scalarTensor(this.lossScale);
    if (this.deviceScale?.value !== this.lossScale) {
      if (this.deviceScale) disposeTensor(this.deviceScale.tensor);
      const [tensor] = await this.device.upload([scalarTensor(this.lossScale)]);
      this.deviceScale = { value: this.lossScale, tensor: tensor! };
    }
    return this.deviceScale.tensor;
  }

  /** A float32 zero tensor of this shape where the sessions run (read-only: accumulators start from it). */
  private async zeros(shape: readonly number[]): Promise<OrtTensor> {
    if (!this.device) return this.pool.zeros(shape);
    const key = shape.join(',');
    let t = this.deviceZeros.get(key);
    if (!t) {
      [t] = await this.device.upload([{ dtype: 'float32', shape, data: new Float32Array(numel(shape)) }]);
      this.deviceZeros.set(key, t!);
      this.persistent.add(t!);
    }
    return t!;
  }

  /** Param gradient accumulators live across micro-batches, targets to the micro-batch's end; the rest goes after its last reader. */
  private isKept(name: string): boolean {
    return (name.startsWith(GRAD_PREFIX) && this.params.has(name.slice(GRAD_PREFIX.length))) || name === this.targets.loss || this.targets.extra.has(name);
  }

  /** A checkpoint or gradient; grad_acc:X is X's gradient so far (zero for a param's first contribution). */
  private async valueFor(name: string, values: Map<string, OrtTensor>): Promise<OrtTensor | undefined> {
    if (!name.startsWith(ACC_PREFIX)) return values.get(name);
    const base = name.slice(ACC_PREFIX.length);
    return values.get(GRAD_PREFIX + base) ?? (this.params.has(base) ? this.zeros(this.paramShapes.get(base)!) : undefined);
  }

  private async applyUpdate(grads: Map<string, OrtTensor>, loss: number, lr: number, outputs: Record<string, HostTensor>): Promise<StepResult> {
    this.stepCount++;
    const scalars = [scalarTensor(lr), scalarTensor(this.stepCount), scalarTensor(1 / (this.microBatches * this.lossScale))];
    const [lrT, stepT, scaleT] = this.device ? await this.device.upload(scalars) : scalars;
    const feeds: Record<string, OrtTensor> = { 'optim.lr': lrT!, 'optim.step': stepT!, grad_scale: scaleT! };
    for (const [name, t] of this.params) {
      feeds[name] = t;
      feeds[GRAD_PREFIX + name] = grads.get(GRAD_PREFIX + name) ?? (await this.zeros(t.dims));
    }
    for (const [name, t] of this.moments) feeds[name] = t;
    const out = await this.runOne(this.apply, feeds);
    if (this.device) for (const t of [lrT!, stepT!, scaleT!]) disposeTensor(t);
    for (const g of grads.values()) this.give(g);
    const gradNorm = Number((await this.toHost([out.grad_norm!]))[0]!.data[0]);
    if (!Number.isFinite(gradNorm) && this.scaling) {
      // an overflow under loss scaling: skip this step, lower the scale
      for (const t of Object.values(out)) this.give(t);
      this.stepCount--;
      this.skippedSteps++;
      this.goodSteps = 0;
      this.lossScale *= this.scaling.backoff ?? 0.5;
      return { loss, gradNorm, outputs, skipped: true, lossScale: this.lossScale };
    }
    this.give(out.grad_norm!);
    // the old values' buffers take the next step's outputs
    for (const name of this.params.keys()) this.swap(this.params, name, out[name + NEW]!);
    for (const name of this.moments.keys()) this.swap(this.moments, name, out[name + NEW]!);
    if (this.scaling && ++this.goodSteps >= (this.scaling.growthInterval ?? 2000)) {
      this.lossScale *= 2;
      this.goodSteps = 0;
    }
    return { loss, gradNorm, outputs };
  }

  private swap(map: Map<string, OrtTensor>, name: string, next: OrtTensor): void {
    this.give(map.get(name)!);
    map.set(name, next);
  }

  get currentLossScale(): number {
    return this.lossScale;
  }

  get fallback(): string | null {
    return this.apply.session.fallback;
  }

  async parameters(): Promise<Record<string, Float32Array>> {
    return this.hostCopies(this.params);
  }

  async saveState(): Promise<TrainerState> {
    const tensors = { ...(await this.hostCopies(this.params)), ...(await this.hostCopies(this.moments)) };
    return { step: this.stepCount, lossScale: this.lossScale, goodSteps: this.goodSteps, tensors };
  }

  async loadState(state: TrainerState): Promise<void> {
    for (const map of [this.params, this.moments]) {
      for (const [n, t] of map) {
        const value = restored(state, n, t.size);
        if (this.device) {
          disposeTensor(t);
          map.set(n, (await this.device.upload([{ dtype: 'float32', shape: t.dims, data: value }]))[0]!);
        } else (t.data as Float32Array).set(value);
      }
    }
    this.stepCount = state.step;
    this.lossScale = state.lossScale;
    this.goodSteps = state.goodSteps;
  }

  /** Copies of the tensors' values on the host (one readback for all of them on the device). */
  private async hostCopies(map: Map<string, OrtTensor>): Promise<Record<string, Float32Array>> {
    const host = await this.toHost([...map.values()]);
    return Object.fromEntries([...map.keys()].map((n, i) => [n, (host[i]!.data as Float32Array).slice()]));
  }

  async release(): Promise<void> {
    // device tensors go before the sessions whose providers own their memory
    if (this.device) {
      for (const map of [this.params, this.moments]) for (const t of map.values()) disposeTensor(t);
      for (const u of this.uploaded.values()) disposeTensor(u.device);
      for (const t of this.deviceZeros.values()) disposeTensor(t);
      if (this.deviceScale) disposeTensor(this.deviceScale.tensor);
      this.uploaded.clear();
      this.deviceZeros.clear();
      this.persistent.clear();
      this.deviceScale = null;
    }
    // runs of one structure share a session: release each once
    for (const session of new Set([...this.runs.forward, ...this.runs.backward, this.apply].map((r) => r.session))) await session.release();
    // drop every buffer now, so the next stage's allocations can reuse the memory once it is collected
    this.pool.clear();
    this.params.clear();
    this.moments.clear();
    this.weightTensors.clear();
  }
}

/** Host tensors as device tensors, in place in the map (one upload). */
async function toDevice(map: Map<string, OrtTensor>, device: DeviceTransfers): Promise<void> {
  const sent = await device.upload([...map.values()]);
  [...map.keys()].forEach((n, i) => map.set(n, sent[i]!));
}

/** Same type, shape and bytes (a step input that did not change since the last step). */
function sameHostTensor(a: HostTensor, b: HostTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return bytes(a).equals(bytes(b));
}

const PROFILE = !!process.env.SINGLEINSERT_PROFILE;
const scalarTensor = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
const GRAD_PREFIX = gradName({ name: '' } as Tensor);
const ACC_PREFIX = accName({ name: '' } as Tensor);
