// Training steps in bounded memory: the step graph is cut at its checkpoints into segments, each
// run as its own onnxruntime session. Forward segments keep only the tensors that cross a cut;
// each backward segment recomputes its own forward from them. onnxruntime schedules one graph as
// it likes, so a recompute inside one graph could be merged away or run early: separate sessions
// make the bound hold. Parameters, optimizer state, checkpoints and gradients stay in onnxruntime
// tensors between runs, outputs written into pooled buffers; frozen weights are one shared tensor each.
import { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';
import { adamWApplyGraph, momentNames, UPDATED as NEW } from '../optim.js';
import { numel } from '../shape.js';
import { accName, backwardGraph, forwardGraph, gradName, gradientFlow, LOSS_SCALE, partition, type SegmentGraph } from '../segments/partition.js';
import { graphKey } from './compile-cache.js';
import { BufferPool } from './buffer-pool.js';
import { type GraphSession, type HostTensor, ort, type OrtTensor, sessionForGraph, toOrtTensor } from './session.js';
import { mergeMicroBatchOutputs, restored, type StepResult, type StepRunner, type TrainerSpec, type TrainerState } from './trainer.js';
import { isSharedWeight, WeightPool } from './weight-pool.js';

export interface CheckpointedTrainerSpec extends TrainerSpec {
  /** Frozen weights shared with other trainers and samplers of the same model (one made if omitted). */
  weights?: WeightPool;
  /** Dynamic loss scaling (float16 steps): start, and the factor it falls by after an overflow. */
  lossScale?: { initial: number; backoff?: number; growthInterval?: number };
  /** Most elements of one attention score tensor (see nn.attention); 2²⁴ (64 MB in float32) by default. */
  attentionScoreLimit?: number | null;
}

export const DEFAULT_SCORE_LIMIT = 1 << 24;

interface Run {
  session: GraphSession;
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
    readonly microBatches: number,
    /** Segments, sessions and checkpoints, for the job's log. */
    readonly plan: { segments: number; forwardRuns: number; backwardRuns: number; sessions: number; sharedWeightBytes: number },
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
    const load = (g: Graph) => sessionForGraph(g, { provider: spec.provider, cacheDir: spec.cacheDir, manySessions: true });
    const paramNames = new Set(model.params.map((p) => p.name));
    const dataNames = new Set(source.inputs.filter((i) => i.role === 'data').map((i) => i.tensor.name));
    const weightTensors = new Map<string, OrtTensor>();
    const byName = new Map<string, Tensor>();
    for (const seg of segments) for (const t of seg.reads) byName.set(t.name, t);
    // segments of one structure on the same weights share a session (see SegmentGraph)
    const sessions = new Map<string, Promise<GraphSession>>();
    const toRun = async (sg: SegmentGraph): Promise<Run> => {
      const key = graphKey(sg.graph);
      if (!sessions.has(key)) sessions.set(key, load(sg.graph));
      const inputs = sg.graph.inputs.map(({ tensor: { name: slot } }) => {
        const name = sg.inputs.get(slot) ?? slot;
        if (name === LOSS_SCALE) return { slot, name, from: 'loss_scale' as const };
        if (paramNames.has(name)) return { slot, name, from: 'param' as const };
        if (dataNames.has(name)) return { slot, name, from: 'data' as const };
        const read = byName.get(name);
        const init = read && source.initializerOf(read);
        if (init) {
          weightTensors.set(name, pool.tensor(init));
          return { slot, name, from: 'weight' as const };
        }
        return { slot, name, from: 'value' as const };
      });
      const outputs = sg.graph.outputs.map((o) => ({ slot: o.name, name: sg.outputs.get(o.name)!, dtype: o.tensor.dtype, shape: o.tensor.shape }));
      return { session: await sessions.get(key)!, inputs, outputs };
    };

    // 1. Forward and backward sessions per segment; reads given a gradient by several segments accumulate
    const forward: Run[] = [];
    const backward: Run[] = [];
    const contributed = new Set<Tensor>(model.params); // params always add into the step's accumulators
    for (let i = segments.length - 1; i >= 0; i--) {
      const { gradOut, gradIn } = flow[i]!;
      if (!gradOut.length) continue;
      const accumulate = new Set(gradIn.filter((t) => contributed.has(t)));
      for (const t of gradIn) contributed.add(t);
      backward.push(
        await toRun(
          backwardGraph(segments[i]!, source, isSharedWeight, { gradOut, gradIn, accumulate, loss: gradOut.includes(model.loss) ? model.loss : null }),
        ),
      );
    }
    for (const s of segments) forward.push(await toRun(forwardGraph(s, source, isSharedWeight)));

    // 2. The optimizer: AdamW on the accumulated gradients, scaled by 1/(k · loss scale)
    const applyGraph = adamWApplyGraph(model.params, gradName, spec.optimizer, 'fed');
    const applySession = await load(applyGraph);
    const apply: Run = {
      session: applySession,
      inputs: applyGraph.inputs.map((i) => ({ slot: i.tensor.name, name: i.tensor.name, from: 'value' as const })),
      outputs: applyGraph.outputs.map((o) => ({ slot: o.name, name: o.name, dtype: o.tensor.dtype, shape: o.tensor.shape })),
    };

    // 3. Parameters and moments as onnxruntime tensors
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

    // 4. When each checkpoint or gradient can go back to the pool: after its last reader
    const lastUse = new Map<string, number>();
    [...forward, ...backward].forEach((r, i) => {
      for (const input of r.inputs) if (input.from === 'value') lastUse.set(input.name, i);
    });
    const plan = {
      segments: segments.length,
      forwardRuns: forward.length,
      backwardRuns: backward.length,
      sessions: sessions.size + 1,
      sharedWeightBytes: pool.heldBytes,
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
      k,
      plan,
    );
  }
  /** Per-run times when SINGLEINSERT_PROFILE is set (benchmarks). */
  readonly profile: Array<{ run: number; kind: string; ms: number; outputs: string }> = [];

  async step(batches: Array<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    if (batches.length !== this.microBatches) throw new Error(`Expected ${this.microBatches} micro-batches, got ${batches.length}`);
    const grads = new Map<string, OrtTensor>(); // param gradients, summed over micro-batches
    let loss = 0;
    const extras: Array<Record<string, HostTensor>> = [];
    for (const batch of batches) {
      const data = Object.fromEntries(Object.entries(batch).map(([n, t]) => [n, toOrtTensor(t)]));
      const values = new Map<string, OrtTensor>(grads);
      const runs = [...this.runs.forward, ...this.runs.backward];
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i]!;
        const feeds: Record<string, OrtTensor> = {};
        for (const { slot, name, from } of r.inputs) {
          const t =
            from === 'value'
              ? this.valueFor(name, values)
              : from === 'weight'
                ? this.weightTensors.get(name)
                : from === 'data'
                  ? data[name]
                  : from === 'param'
                    ? this.params.get(name)
                    : scalarTensor(this.lossScale);
          if (!t) throw new Error(`Internal: no value for ${name} in run ${i}`);
          feeds[slot] = t;
        }
        const fetches: Record<string, OrtTensor> = {};
        for (const o of r.outputs) fetches[o.slot] = this.pool.take(o.dtype, o.shape);
        const started = PROFILE ? performance.now() : 0;
        await r.session.runTensors(feeds, fetches);
        if (PROFILE)
          this.profile.push({
            run: i,
            kind: i < this.runs.forward.length ? 'fwd' : 'bwd',
            ms: performance.now() - started,
            outputs: r.outputs.map((o) => o.name).join(' '),
          });
        for (const o of r.outputs) {
          const old = values.get(o.name);
          values.set(o.name, fetches[o.slot]!);
          if (old) this.pool.give(old);
        }
        // checkpoints and gradients nobody reads any more go back to the pool
        for (const { name, from } of r.inputs) {
          if (from !== 'value' || name.startsWith(ACC_PREFIX) || this.lastUse.get(name) !== i || this.isKept(name)) continue;
          const t = values.get(name);
          if (t) this.pool.give(t);
          values.delete(name);
        }
      }
      loss += Number(values.get(this.targets.loss)!.data[0]);
      const outputs: Record<string, HostTensor> = {};
      for (const [tensorName, outName] of this.targets.extra) {
        const t = values.get(tensorName)!;
        outputs[outName] = { dtype: t.type as HostTensor['dtype'], shape: t.dims, data: (t.data as Float32Array).slice() as HostTensor['data'] };
      }
      extras.push(outputs);
      for (const name of this.params.keys()) {
        const g = values.get(GRAD_PREFIX + name);
        if (g) grads.set(GRAD_PREFIX + name, g);
      }
      for (const [name, t] of values) if (!grads.has(name)) this.pool.give(t);
    }
    return this.applyUpdate(grads, loss / batches.length, lr, mergeMicroBatchOutputs(extras));
  }

  /** Param gradient accumulators live across micro-batches, targets to the micro-batch's end; the rest goes after its last reader. */
  private isKept(name: string): boolean {
    return (name.startsWith(GRAD_PREFIX) && this.params.has(name.slice(GRAD_PREFIX.length))) || name === this.targets.loss || this.targets.extra.has(name);
  }

  /** A checkpoint or gradient; grad_acc:X is X's gradient so far (zero for a param's first contribution). */
  private valueFor(name: string, values: Map<string, OrtTensor>): OrtTensor | undefined {
    if (!name.startsWith(ACC_PREFIX)) return values.get(name);
    const base = name.slice(ACC_PREFIX.length);
    return values.get(GRAD_PREFIX + base) ?? (this.params.has(base) ? this.pool.zeros(this.paramShapes.get(base)!) : undefined);
  }

  private async applyUpdate(grads: Map<string, OrtTensor>, loss: number, lr: number, outputs: Record<string, HostTensor>): Promise<StepResult> {
    this.stepCount++;
    const feeds: Record<string, OrtTensor> = {
      'optim.lr': scalarTensor(lr),
      'optim.step': scalarTensor(this.stepCount),
      grad_scale: scalarTensor(1 / (this.microBatches * this.lossScale)),
    };
    for (const [name, t] of this.params) {
      feeds[name] = t;
      feeds[GRAD_PREFIX + name] = grads.get(GRAD_PREFIX + name) ?? this.pool.zeros(t.dims);
    }
    for (const [name, t] of this.moments) feeds[name] = t;
    const out: Record<string, OrtTensor> = {};
    for (const o of this.apply.outputs) out[o.slot] = this.pool.take(o.dtype, o.shape);
    await this.apply.session.runTensors(feeds, out);
    for (const g of grads.values()) this.pool.give(g);
    const gradNorm = Number(out.grad_norm!.data[0]);
    if (!Number.isFinite(gradNorm) && this.scaling) {
      // an overflow under loss scaling: skip this step, lower the scale
      for (const t of Object.values(out)) this.pool.give(t);
      this.stepCount--;
      this.skippedSteps++;
      this.goodSteps = 0;
      this.lossScale *= this.scaling.backoff ?? 0.5;
      return { loss, gradNorm, outputs, skipped: true };
    }
    this.pool.give(out.grad_norm!);
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
    this.pool.give(map.get(name)!);
    map.set(name, next);
  }

  get currentLossScale(): number {
    return this.lossScale;
  }

  get fallback(): string | null {
    return this.apply.session.fallback;
  }

  parameters(): Record<string, Float32Array> {
    return Object.fromEntries([...this.params].map(([n, t]) => [n, (t.data as Float32Array).slice()]));
  }

  saveState(): TrainerState {
    const tensors: Record<string, Float32Array> = {};
    for (const map of [this.params, this.moments]) for (const [n, t] of map) tensors[n] = (t.data as Float32Array).slice();
    return { step: this.stepCount, lossScale: this.lossScale, goodSteps: this.goodSteps, tensors };
  }

  loadState(state: TrainerState): void {
    for (const map of [this.params, this.moments]) {
      for (const [n, t] of map) (t.data as Float32Array).set(restored(state, n, t.size));
    }
    this.stepCount = state.step;
    this.lossScale = state.lossScale;
    this.goodSteps = state.goodSteps;
  }

  async release(): Promise<void> {
    // runs of one structure share a session: release each once
    for (const session of new Set([...this.runs.forward, ...this.runs.backward, this.apply].map((r) => r.session))) await session.release();
    // drop every buffer now, so the next stage's allocations can reuse the memory once it is collected
    this.pool.clear();
    this.params.clear();
    this.moments.clear();
    this.weightTensors.clear();
  }
}

const PROFILE = !!process.env.SINGLEINSERT_PROFILE;
const scalarTensor = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
const GRAD_PREFIX = gradName({ name: '' } as Tensor);
const ACC_PREFIX = accName({ name: '' } as Tensor);
