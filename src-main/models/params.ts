// How model code gets its weights: by checkpoint name and expected shape, from a WeightSource.
// Model files never open files themselves (weights/ does).
import type { DType, HostArray } from '../graph/dtype.js';
import { GraphError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import type { ExternalRef, Tensor } from '../graph/ir.js';
import { numel, type Shape } from '../graph/shape.js';
import type { LoraAdapter } from './lora.js';

/** Where weight values come from: a checkpoint on disk, or generated (tests, benchmarks). */
export interface WeightSource {
  /** A description of the source for error messages ("unet/diffusion_pytorch_model.safetensors"). */
  readonly label: string;
  /** The shape the source holds for `name` (the model expects `expected`), or undefined if it has none. */
  shapeOf(name: string, expected: Shape): readonly number[] | undefined;
  /**
   * The values of `name` in `dtype`: file bytes used in place where possible, else converted in memory.
   * `inMemory` asks for the values themselves (trainable weights start from them).
   */
  load(name: string, dtype: DType, shape: Shape, options?: { inMemory?: boolean }): HostArray | ExternalRef;
}

/** Attention over [B, heads, tokens, dim] queries, keys and values, with an optional additive mask. */
export type AttentionImpl = (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor | null) => Tensor;

/** What model code is given: its weights by name, the LoRAs that apply to them, and how to attend. */
export interface ParamFactory {
  /** The weight `name` under the graph's current scope (unet.down_blocks.0…), of the expected shape. */
  weight(name: string, shape: Shape): Tensor;
  /** LoRAs applied to the linear layers they target. */
  readonly adapters?: readonly LoraAdapter[];
  /** The attention every layer uses; nn.attention (queries chunked when the graph asks) by default. */
  readonly attention?: AttentionImpl;
}

/**
 * Frozen weights from `source`, named by the graph's current scope (unet.down_blocks.0…).
 * `prefix` is stripped from the scoped name before lookup, so one source can serve one sub-model.
 * A missing or mis-shaped key is an error that names it.
 */
export function weightsFrom(
  graph: Graph,
  source: WeightSource,
  options: { dtype?: DType; prefix?: string; adapters?: readonly LoraAdapter[]; attention?: AttentionImpl } = {},
): ParamFactory {
  const dtype = options.dtype ?? 'float32';
  const weight = (name: string, shape: Shape) => {
    const full = graph.scopedName(name);
    const key = options.prefix && full.startsWith(options.prefix) ? full.slice(options.prefix.length) : full;
    const have = source.shapeOf(key, shape);
    if (!have) throw new GraphError('weights', `${source.label} has no weight ${key} (expected shape [${shape}])`);
    if (numel(have) !== numel(shape) || !sameOrSqueezed(have, shape)) {
      throw new GraphError('weights', `${source.label}: ${key} has shape [${have}], the model expects [${shape}]`);
    }
    return graph.weight(name, dtype, shape, source.load(key, dtype, shape));
  };
  return { weight, adapters: options.adapters, attention: options.attention };
}

/** Checkpoints sometimes store 1×1 conv weights as [out, in] and linear as [out, in, 1, 1]: equal up to unit axes. */
function sameOrSqueezed(a: readonly number[], b: readonly number[]): boolean {
  const strip = (s: readonly number[]) => s.filter((d) => d !== 1);
  const sa = strip(a);
  const sb = strip(b);
  return sa.length === sb.length && sa.every((d, i) => d === sb[i]);
}

/**
 * The same weights for several uses in one graph (the frozen UNet on the concept prompt and on
 * the class prompt): each name becomes one tensor, however often it is asked for.
 */
export function sharedWeights(graph: Graph, factory: ParamFactory): ParamFactory {
  const made = new Map<string, Tensor>();
  const weight = (name: string, shape: Shape) => {
    const key = graph.scopedName(name);
    let t = made.get(key);
    if (!t) {
      t = factory.weight(name, shape);
      made.set(key, t);
    }
    return t;
  };
  return { ...factory, weight };
}

/** The same weights with other adapters (Stage II: the UNet with and without the concept's LoRA). */
export function withAdapters(factory: ParamFactory, adapters: readonly LoraAdapter[]): ParamFactory {
  return { ...factory, adapters };
}

/**
 * Trainable parameters initialised from a source (the image encoder SingleInsert fine-tunes):
 * each becomes a graph parameter, with its starting value recorded for the Trainer.
 */
export function trainableFrom(
  graph: Graph,
  source: WeightSource,
  options: { prefix?: string } = {},
): ParamFactory & { params: Tensor[]; initialValues: Record<string, Float32Array> } {
  const params: Tensor[] = [];
  const initialValues: Record<string, Float32Array> = {};
  const weight = (name: string, shape: Shape) => {
    const full = graph.scopedName(name);
    const key = options.prefix && full.startsWith(options.prefix) ? full.slice(options.prefix.length) : full;
    const have = source.shapeOf(key, shape);
    if (!have || numel(have) !== numel(shape)) throw new GraphError('weights', `${source.label}: no weight ${key} of shape [${shape}]`);
    const t = graph.param(name, shape);
    const value = source.load(key, 'float32', shape, { inMemory: true });
    if (!(value instanceof Float32Array)) throw new GraphError('weights', `${source.label}: ${key} could not be read into memory as float32`);
    params.push(t);
    initialValues[t.name] = value;
    return t;
  };
  return { weight, params, initialValues };
}
