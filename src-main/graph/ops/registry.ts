import type { Node, Tensor } from '../ir.js';

/**
 * A vector-Jacobian product: given the gradients of a node's outputs, the gradients
 * of its inputs, built from standard ONNX ops. `wants[i]` is false for inputs that
 * need none (frozen or integer), which the rule may skip.
 */
export type Vjp = (node: Node, grads: readonly (Tensor | undefined)[], wants: readonly boolean[]) => ReadonlyArray<Tensor | undefined>;

const rules = new Map<string, Vjp>();

export function defineVjp(type: string, rule: Vjp): void {
  rules.set(type, rule);
}

export function vjpOf(type: string): Vjp | undefined {
  return rules.get(type);
}

/** Op types that never carry a gradient (comparisons, shapes, indices). */
export const NON_DIFFERENTIABLE = new Set(['Greater', 'Less', 'Equal', 'Not', 'And', 'Shape', 'ScatterND']);
