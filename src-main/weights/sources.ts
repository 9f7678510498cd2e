import { createHash } from 'node:crypto';
import { BYTES_PER_ELEMENT, type DType, type HostArray, toHalfArray } from '../graph/dtype.js';
import type { ExternalRef } from '../graph/ir.js';
import { SeededRandom } from '../graph/random.js';
import { numel, type Shape } from '../graph/shape.js';
import type { WeightSource } from '../models/params.js';
import { readTensorAsFloat32, type SafetensorsFile, type TensorEntry } from './safetensors.js';

const FILE_DTYPE: Partial<Record<DType, string>> = { float32: 'F32', float16: 'F16' };

/**
 * Weights read from .safetensors files. `keyOf` maps the model's (diffusers) name to the
 * file's key, for checkpoints that use other names (LDM single files).
 * Tensors whose stored type is the one wanted are referenced in place; others are converted.
 */
export class SafetensorsSource implements WeightSource {
  private readonly index = new Map<string, { file: SafetensorsFile; entry: TensorEntry }>();
  /**
   * Converted tensors while something still holds them: a training run's sampler then gets the very
   * arrays its trainer holds, and the weight pool shares them instead of keeping a second copy.
   */
  private readonly converted = new Map<string, WeakRef<HostArray>>();

  constructor(
    readonly label: string,
    readonly files: readonly SafetensorsFile[],
    private readonly keyOf: (name: string) => string | readonly string[] = (name) => name,
  ) {
    for (const file of files) for (const [key, entry] of file.tensors) this.index.set(key, { file, entry });
  }

  private find(name: string) {
    const keys = this.keyOf(name);
    for (const key of typeof keys === 'string' ? [keys] : keys) {
      const hit = this.index.get(key);
      if (hit) return hit;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.find(name)?.entry.shape;
  }

  load(name: string, dtype: DType, _shape?: Shape, options: { inMemory?: boolean } = {}): HostArray | ExternalRef {
    const hit = this.find(name)!;
    if (FILE_DTYPE[dtype] === hit.entry.dtype && !options.inMemory) return { file: hit.file.path, offset: hit.entry.offset, length: hit.entry.length };
    const key = `${name}:${dtype}`;
    const held = this.converted.get(key)?.deref();
    if (held) return held;
    const values = readTensorAsFloat32(hit.file, hit.entry.name);
    const result = dtype === 'float16' ? toHalfArray(values) : values;
    this.converted.set(key, new WeakRef(result));
    return result;
  }
}

/**
 * Deterministic random weights of any requested shape, for tiny test models and benchmarks
 * with SD's real shapes: norm weights 1, biases 0, embeddings N(0, 0.02²), other weights N(0, 1/fan_in).
 */
export class RandomSource implements WeightSource {
  readonly label: string;

  constructor(private readonly seed = 0) {
    this.label = `random weights (seed ${seed})`;
  }

  shapeOf(_name: string, expected: Shape): readonly number[] {
    return expected;
  }

  load(name: string, dtype: DType, shape: Shape): HostArray {
    const n = numel(shape);
    const values = new Float32Array(n);
    const leaf = name.split('.').slice(-2).join('.');
    if (shape.length === 1 && /norm/.test(leaf) && name.endsWith('weight')) values.fill(1);
    else if (!name.endsWith('bias')) {
      const rng = new SeededRandom(this.seed ^ parseInt(createHash('sha256').update(name).digest('hex').slice(0, 8), 16));
      const scale = /embedding/.test(name) ? 0.02 : 1 / Math.sqrt(n / shape[0]!);
      for (let i = 0; i < n; i++) values[i] = rng.normal() * scale;
    }
    return dtype === 'float16' ? toHalfArray(values) : values;
  }
}

/**
 * Weights held in memory by name (a trained encoder's parameters, to run it forward). Without `shapes`
 * a value has the shape its reader expects, if the size fits; with them (a LoRA, whose rank its reader
 * asks for), its own.
 */
export class MemorySource implements WeightSource {
  constructor(
    readonly label: string,
    private readonly values: Readonly<Record<string, Float32Array>>,
    private readonly shapes: Readonly<Record<string, readonly number[]>> = {},
  ) {}

  shapeOf(name: string, expected: Shape): readonly number[] | undefined {
    const v = this.values[name];
    if (!v) return undefined;
    const own = this.shapes[name];
    if (own) return own;
    return v.length === numel(expected) ? expected : undefined;
  }

  load(name: string, dtype: DType): HostArray {
    const v = this.values[name]!;
    return dtype === 'float16' ? toHalfArray(v) : v;
  }
}

/**
 * The same names and shapes as `source`, with no values: frozen weights as byte ranges of the right
 * length, trainable ones as empty arrays. Memory estimates build their graphs on it, so estimating a
 * step reads and draws nothing (a random ViT-B/32 is 88 M numbers).
 */
export function shapesOnly(source: WeightSource): WeightSource {
  return {
    label: source.label,
    shapeOf: (name, expected) => source.shapeOf(name, expected),
    load: (name, dtype, shape, options) => (options?.inMemory ? new Float32Array(0) : { file: '', offset: 0, length: numel(shape) * BYTES_PER_ELEMENT[dtype] }),
  };
}
