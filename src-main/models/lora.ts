// Low-rank adapters on linear layers: y = W·x + scale·B·(A·x), A [rank, in], B [out, rank].
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
  /** A [rank, in] and B [out, rank] for that layer, as graph tensors. */
  weights(graph: Graph, module: string, inDim: number, outDim: number): { down: Tensor; up: Tensor };
  readonly scale: number;
  /** The concept's region, when it acts only in one (see models/regional.ts). */
  readonly region?: string;
  /** Where the delta applies: a mask broadcast over the delta of input x, or null for everywhere. */
  gate?(module: string, x: Tensor): Tensor | null;
}

/** The adapters' contribution to a linear layer's output, or null if none targets it. */
export function loraDelta(adapters: readonly LoraAdapter[], module: string, x: Tensor, inDim: number, outDim: number): Tensor | null {
  let delta: Tensor | null = null;
  for (const adapter of adapters) {
    if (!adapter.targets(module)) continue;
    const { down, up } = adapter.weights(x.graph, module, inDim, outDim);
    const d = op.mul(linear(linear(x, down), up), adapter.scale);
    const gate = adapter.gate?.(module, x);
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
  const made = new Map<string, { down: Tensor; up: Tensor }>();
  return {
    label,
    scale,
    targets: (module) => source.shapeOf(loraKeys(module).down, []) !== undefined,
    // a layer used twice (one model on two prompts) gets the same tensors
    weights: (graph, module, inDim, outDim) => {
      const known = made.get(module);
      if (known) return known;
      const keys = loraKeys(module);
      const rank = source.shapeOf(keys.down, [])![0]!;
      const load = (key: string, shape: number[]) =>
        graph.unscoped(() => graph.weight(`${key}#${label}`, 'float32', shape, source.load(key, 'float32', shape)));
      const pair = { down: load(keys.down, [rank, inDim]), up: load(keys.up, [outDim, rank]) };
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
