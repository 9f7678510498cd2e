import { type DType, type HostArray, toHalfArray } from './dtype.js';
import { GraphError } from './errors.js';
import type { Attr, ExternalRef, GraphInput, Initializer, InputRole, Node, Tensor } from './ir.js';
import { fmt, numel, type Shape } from './shape.js';

/** Fixed by the graph: the opset the builder emits and the serializer declares. */
export const OPSET = 18;

/**
 * Builds one graph. Tensors know their graph, so ops are plain functions of tensors
 * (see ops/); this class holds the lists and hands out names.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly initializers: Initializer[] = [];
  readonly outputs: Array<{ tensor: Tensor; name: string }> = [];
  /** Node counts at which a checkpointed step cuts the graph into segments (see segments/partition.ts). */
  readonly cuts: number[] = [];
  /** Most elements one attention score tensor may have (queries go in chunks above it); null: no limit. */
  attentionScoreLimit: number | null = null;
  /**
   * Where float16 matrix products and convolutions add up: in float32 (PyTorch's autocast on tensor cores does;
   * WebGPU's float16 kernels add in float16 and lose 1e-2 of the UNet's ε) or, for speed alone, in float16.
   * Storage between layers stays float16 either way (see nn.ts, decision 0006).
   */
  halfAccumulation: 'float32' | 'float16' = 'float32';
  private readonly initializerByTensor = new Map<Tensor, Initializer>();
  private readonly scopes: string[] = [];
  private readonly usedNames = new Set<string>();
  private nextId = 0;

  constructor(readonly name = 'graph') {}

  /** Names parameters and nodes built inside `fn` under `prefix.` (e.g. unet.down_blocks.0), so weights map to checkpoint keys. */
  scope<T>(prefix: string | number, fn: () => T): T {
    this.scopes.push(String(prefix));
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Runs `fn` with no scope, for tensors already named in full (LoRA weights named after their layer). */
  unscoped<T>(fn: () => T): T {
    const saved = this.scopes.splice(0);
    try {
      return fn();
    } finally {
      this.scopes.push(...saved);
    }
  }

  scopedName(name: string): string {
    return [...this.scopes, name].join('.');
  }

  /**
   * Marks a segment boundary: a checkpointed step keeps the tensors crossing it and recomputes
   * everything between two boundaries in that segment's backward pass. One-graph runs ignore it.
   */
  checkpoint(): void {
    if (this.cuts[this.cuts.length - 1] !== this.nodes.length) this.cuts.push(this.nodes.length);
  }

  /** A per-run input: images, noise, timesteps. */
  input(name: string, dtype: DType, shape: Shape, role: InputRole = 'data'): Tensor {
    const tensor = this.newTensor(this.uniqueName(role === 'data' ? name : this.scopedName(name), true), dtype, shape, null);
    this.inputs.push({ tensor, role });
    return tensor;
  }

  /** A trainable parameter: an input whose updated value the step graph returns. */
  param(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    return this.input(name, dtype, shape, 'param');
  }

  /** A frozen weight with its data (inline or pointing into a file). */
  weight(name: string, dtype: DType, shape: Shape, value: HostArray | ExternalRef): Tensor {
    const tensor = this.newTensor(this.uniqueName(this.scopedName(name), true), dtype, shape, null);
    if (ArrayBuffer.isView(value)) {
      if (value.length !== numel(shape)) throw new GraphError('weight', `${tensor.name}: ${value.length} values for shape ${fmt(shape)}`);
      this.addInitializer({ tensor, value: { kind: 'inline', data: value } });
    } else {
      this.addInitializer({ tensor, value: { kind: 'external', ref: value } });
    }
    return tensor;
  }

  /** A constant tensor (shapes, axes, scalars) stored inline. */
  constant(dtype: DType, shape: Shape, values: ArrayLike<number> | readonly bigint[]): Tensor {
    return this.weight(`const_${this.nextId}`, dtype, shape, hostArray(dtype, values));
  }

  scalar(value: number, dtype: DType = 'float32'): Tensor {
    return this.constant(dtype, [], [value]);
  }

  int64s(values: readonly number[]): Tensor {
    return this.constant(
      'int64',
      [values.length],
      values.map((v) => BigInt(v)),
    );
  }

  /** The values of a constant int tensor (axes, shapes) as numbers. */
  constantInts(tensor: Tensor): number[] {
    const init = this.initializerByTensor.get(tensor);
    if (!init || init.value.kind !== 'inline') throw new GraphError('constantInts', `${tensor.name} is not an inline constant`);
    return Array.from(init.value.data as ArrayLike<number | bigint>, Number);
  }

  /** Marks a tensor as a graph output under `name` (through an Identity, so any tensor can be named). */
  output(tensor: Tensor, name: string): Tensor {
    if (tensor.graph !== this) throw new GraphError('output', `${tensor.name} belongs to another graph`);
    const [named] = this.addNode('Identity', [tensor], {}, [{ dtype: tensor.dtype, shape: tensor.shape }], [name]);
    this.outputs.push({ tensor: named!, name });
    return named!;
  }

  /** Appends a node; `outs` are the already-inferred output types. */
  addNode(
    type: string,
    inputs: readonly (Tensor | null)[],
    attrs: Record<string, Attr>,
    outs: ReadonlyArray<{ dtype: DType; shape: Shape }>,
    outputNames?: readonly string[],
  ): Tensor[] {
    for (const t of inputs) if (t && t.graph !== this) throw new GraphError(type, `input ${t.name} belongs to another graph`);
    const name = this.uniqueName(this.scopedName(type), false);
    const outputs: Tensor[] = [];
    const node: Node = { type, name, inputs, outputs, attrs };
    outs.forEach((o, i) => {
      const outName = outputNames?.[i] !== undefined ? this.uniqueName(outputNames[i]!, true) : `${name}:${i}`;
      outputs.push(this.newTensor(outName, o.dtype, o.shape, node));
    });
    this.nodes.push(node);
    return outputs;
  }

  /**
   * Rewires every node that reads `old` to read `replacement` instead (a backward graph that is given an
   * activation rather than recomputing it); `old`'s producer is left for pruning.
   */
  replaceUses(old: Tensor, replacement: Tensor): void {
    if (old.graph !== this || replacement.graph !== this) throw new GraphError('replaceUses', `${old.name} and ${replacement.name} must be of this graph`);
    for (const n of this.nodes) {
      if (!n.inputs.includes(old)) continue;
      // the node is this graph's own object; its inputs array may be a caller's, so it gets a new one
      (n as { inputs: Node['inputs'] }).inputs = n.inputs.map((t) => (t === old ? replacement : t));
    }
  }

  initializerOf(tensor: Tensor): Initializer | undefined {
    return this.initializerByTensor.get(tensor);
  }

  private addInitializer(init: Initializer): void {
    this.initializers.push(init);
    this.initializerByTensor.set(init.tensor, init);
  }

  private newTensor(name: string, dtype: DType, shape: Shape, producer: Node | null): Tensor {
    for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new GraphError('tensor', `${name}: bad shape ${fmt(shape)}`);
    return { id: this.nextId++, name, dtype, shape: [...shape], graph: this, producer };
  }

  private uniqueName(base: string, exact: boolean): string {
    if (exact) {
      if (this.usedNames.has(base)) throw new GraphError('graph', `the name ${base} is used twice`);
      this.usedNames.add(base);
      return base;
    }
    let i = 0;
    while (this.usedNames.has(`${base}_${i}`)) i++;
    this.usedNames.add(`${base}_${i}`);
    return `${base}_${i}`;
  }
}

export function hostArray(dtype: DType, values: ArrayLike<number> | readonly bigint[]): HostArray {
  const nums = values as ArrayLike<number>;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(nums);
    case 'float64':
      return Float64Array.from(nums);
    case 'float16':
      return toHalfArray(nums);
    case 'int32':
      return Int32Array.from(nums);
    case 'int64':
      return BigInt64Array.from(Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v)));
    case 'bool':
      return Uint8Array.from(nums);
  }
}
