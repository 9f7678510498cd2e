// Low-rank adapters: on a linear layer y = W·x + scale·B·(A·x), A [rank, in], B [out, rank]; on a k×k
// convolution (LyCORIS LoCon) A is a k×k conv [rank, in, k, k] with the layer's stride and padding, B a 1×1
// conv [out, rank, 1, 1]. Every adapter is applied as a delta while the graph runs, never merged into the
// weights: a strength, a region or a LoRA under training changes no base weight (docs/ARCHITECTURE.md).
// A concept's LoRA is one adapter; several concepts' adapters add up, with no joint training.
import type { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/ir.js';
import { linear } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { SeededRandom } from '../graph/random.js';
import type { WeightSource } from './params.js';

/** Attention projections SingleInsert adapts: UNet attn1/attn2 (to_q/k/v/out.0) and CLIP text (q/k/v/out_proj). */
export const ATTENTION_PROJECTION = /(\.attn[12]\.(to_q|to_k|to_v|to_out\.0)|\.self_attn\.(q_proj|k_proj|v_proj|out_proj))$/;

export interface LoraAdapter {
  readonly label: string;
  /** Whether this adapter has weights for the linear layer with this full (scoped) name. */
  targets(module: string): boolean;
  /**
   * A and B for that layer, as graph tensors: [rank, in] and [out, rank] for a linear layer (kernel 0), [rank, in, k, k]
   * and [out, rank, 1, 1] for a k×k convolution.
   */
  weights(graph: Graph, module: string, inDim: number, outDim: number, kernel?: number): { down: Tensor; up: Tensor };
  readonly scale: number;
  /** The concept's region, when it acts only in one (see models/regional.ts). */
  readonly region?: string;
  /** Where the delta applies: a mask broadcast over `target` (the delta, or what it is added to), or null for everywhere. */
  gate?(module: string, target: Tensor): Tensor | null;
}

/** The adapters' contribution to a linear layer's output, or null if none targets it. */
export function loraDelta(adapters: readonly LoraAdapter[], module: string, x: Tensor, inDim: number, outDim: number): Tensor | null {
  return sumDeltas(adapters, module, (a) => {
    const { down, up } = a.weights(x.graph, module, inDim, outDim);
    return linear(linear(x, down), up);
  });
}

/** The adapters' contribution to a k×k convolution's output [B, out, H', W'], or null if none targets it. */
export function loraConvDelta(
  adapters: readonly LoraAdapter[],
  module: string,
  x: Tensor,
  inCh: number,
  outCh: number,
  kernel: number,
  options: { stride?: number; padding?: number },
): Tensor | null {
  return sumDeltas(adapters, module, (a) => {
    const { down, up } = a.weights(x.graph, module, inCh, outCh, kernel);
    return op.conv2d(op.conv2d(x, down, null, options), up);
  });
}

function sumDeltas(adapters: readonly LoraAdapter[], module: string, compute: (a: LoraAdapter) => Tensor): Tensor | null {
  let delta: Tensor | null = null;
  for (const adapter of adapters) {
    if (!adapter.targets(module)) continue;
    const d = op.mul(compute(adapter), adapter.scale);
    const gate = adapter.gate?.(module, d);
    const gated = gate ? op.mul(d, gate) : d;
    delta = delta ? op.add(delta, gated) : gated;
  }
  return delta;
}

/** Names of one layer's adapter weights (PEFT style). */
export const loraKeys = (module: string) => ({ down: `${module}.lora_A.weight`, up: `${module}.lora_B.weight` });

/** Whether a weight's name is a LoRA factor's (by loraKeys; frozen adapters add `#label`). */
export const isLoraWeight = (name: string) => /\.lora_[AB]\.weight(#|$)/.test(name);

/** A learned adapter read from a concept's weights (any WeightSource holding loraKeys names). */
export function frozenLora(label: string, source: WeightSource, scale = 1): LoraAdapter {
  const madeIn = new WeakMap<Graph, Map<string, { down: Tensor; up: Tensor }>>();
  return {
    label,
    scale,
    targets: (module) => source.shapeOf(loraKeys(module).down, []) !== undefined,
    // a layer used twice in one graph (one model on two prompts) gets the same tensors; another graph its own
    weights: (graph, module, inDim, outDim, kernel = 0) => {
      const made = madeIn.get(graph) ?? new Map<string, { down: Tensor; up: Tensor }>();
      madeIn.set(graph, made);
      const known = made.get(module);
      if (known) return known;
      const keys = loraKeys(module);
      const rank = source.shapeOf(keys.down, [])![0]!;
      const load = (key: string, shape: number[]) =>
        graph.unscoped(() => graph.weight(`${key}#${label}`, 'float32', shape, source.load(key, 'float32', shape)));
      // a 1×1 conv's factors may be stored as linear ones ([rank, in], [out, rank]): the same numbers
      const pair = kernel
        ? { down: load(keys.down, [rank, inDim, kernel, kernel]), up: load(keys.up, [outDim, rank, 1, 1]) }
        : { down: load(keys.down, [rank, inDim]), up: load(keys.up, [outDim, rank]) };
      made.set(module, pair);
      return pair;
    },
  };
}

/**
 * A trainable adapter for Stage II: A starts random (N(0, 1/rank)), B at zero, so training
 * starts from the frozen model exactly. `params` and `initialValues` feed the Trainer.
 */
export class TrainableLora implements LoraAdapter {
  readonly params: Tensor[] = [];
  readonly initialValues: Record<string, Float32Array> = {};
  readonly label = 'trainable';

  constructor(
    readonly rank: number,
    readonly scale = 1,
    private readonly pattern: RegExp = ATTENTION_PROJECTION,
    private readonly seed = 0,
  ) {}

  targets(module: string): boolean {
    return this.pattern.test(module);
  }

  private readonly made = new Map<string, { down: Tensor; up: Tensor }>();

  weights(graph: Graph, module: string, inDim: number, outDim: number): { down: Tensor; up: Tensor } {
    const known = this.made.get(module);
    if (known) return known; // the same layer on another prompt shares its adapter
    const keys = loraKeys(module);
    const [down, up] = graph.unscoped(() => [graph.param(keys.down, [this.rank, inDim]), graph.param(keys.up, [outDim, this.rank])]);
    const rng = new SeededRandom(this.seed + this.params.length);
    this.initialValues[keys.down] = Float32Array.from(rng.normalArray(this.rank * inDim), (v) => v / this.rank);
    this.initialValues[keys.up] = new Float32Array(outDim * this.rank);
    this.params.push(down!, up!);
    this.made.set(module, { down: down!, up: up! });
    return { down: down!, up: up! };
  }
}
