// The IR: a graph of standard ONNX ops over statically shaped tensors.
import type { DType, HostArray } from './dtype.js';
import type { Shape } from './shape.js';
import type { Graph } from './graph.js';

export interface Tensor {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly graph: Graph;
  /** The node that computes it; none for inputs, parameters and constants. */
  readonly producer: Node | null;
}

export type Attr =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

export interface Node {
  readonly type: string;
  readonly name: string;
  /** null stands for an omitted optional input. */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

/** Bytes inside a file on disk (a .safetensors weight, say) used as a tensor's data without copying. */
export interface ExternalRef {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export type InitializerData = { readonly kind: 'inline'; readonly data: HostArray } | { readonly kind: 'external'; readonly ref: ExternalRef };

export interface Initializer {
  readonly tensor: Tensor;
  readonly value: InitializerData;
}

/**
 * What a graph input is for: `data` changes every run (images, noise, timesteps);
 * `param` is a trainable parameter carried across steps; `state` is optimizer state (moments, step).
 */
export type InputRole = 'data' | 'param' | 'state';

export interface GraphInput {
  readonly tensor: Tensor;
  readonly role: InputRole;
}

/** A node's integer attribute; a missing one or one of another kind is a bug in the builder that made the node. */
export function intAttr(node: Node, name: string): number {
  const a = node.attrs[name];
  if (!a || !('int' in a)) throw new Error(`${node.type} ${node.name} has no int attribute ${name}`);
  return a.int;
}

/** A node's integer-list attribute (perm, strides, pads…). */
export function intsAttr(node: Node, name: string): readonly number[] {
  const a = node.attrs[name];
  if (!a || !('ints' in a)) throw new Error(`${node.type} ${node.name} has no ints attribute ${name}`);
  return a.ints;
}
