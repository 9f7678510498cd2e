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
  /** The values of `name` in `dtype`: file bytes used in place where possible, else converted in memory. */
  load(name: string, dtype: DType, shape: Shape): HostArray | ExternalRef;
}

/** Gives model code its weights by name; `adapters` are LoRAs applied to the linear layers they target. */
export type ParamFactory = ((name: string, shape: Shape) => Tensor) & { adapters?: readonly LoraAdapter[] };

/**
 * Frozen weights from `source`, named by the graph's current scope (unet.down_blocks.0…).
 * `prefix` is stripped from the scoped name before lookup, so one source can serve one sub-model.
 * A missing or mis-shaped key is an error that names it.
 */
export function weightsFrom(
  graph: Graph,
  source: WeightSource,
  options: { dtype?: DType; prefix?: string; adapters?: readonly LoraAdapter[] } = {},
): ParamFactory {
  const dtype = options.dtype ?? 'float32';
  const factory: ParamFactory = (name, shape) => {
    const full = graph.scopedName(name);
    const key = options.prefix && full.startsWith(options.prefix) ? full.slice(options.prefix.length) : full;
    const have = source.shapeOf(key, shape);
    if (!have) throw new GraphError('weights', `${source.label} has no weight ${key} (expected shape [${shape}])`);
    if (numel(have) !== numel(shape) || !sameOrSqueezed(have, shape)) {
      throw new GraphError('weights', `${source.label}: ${key} has shape [${have}], the model expects [${shape}]`);
    }
    return graph.weight(name, dtype, shape, source.load(key, dtype, shape));
  };
  if (options.adapters) factory.adapters = options.adapters;
  return factory;
}

/** Checkpoints sometimes store 1×1 conv weights as [out, in] and linear as [out, in, 1, 1]: equal up to unit axes. */
function sameOrSqueezed(a: readonly number[], b: readonly number[]): boolean {
  const strip = (s: readonly number[]) => s.filter((d) => d !== 1);
  const sa = strip(a);
  const sb = strip(b);
  return sa.length === sb.length && sa.every((d, i) => d === sb[i]);
}
