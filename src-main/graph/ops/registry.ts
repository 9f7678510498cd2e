// What the autodiff knows of an op type: its gradient rule, or that it carries no gradient. One record per op,
// all of them in one table (gradients.ts), checked by test/unit/graph/op-rules.test.ts.
import type { Node, Tensor } from '../ir.js';

/**
 * A vector-Jacobian product: given the gradients of a node's outputs, the gradients
 * of its inputs (one entry per input), built from standard ONNX ops. `wants[i]` is false for
 * inputs that need none (frozen or integer), which the rule may skip.
 */
export type Vjp = (node: Node, grads: readonly (Tensor | undefined)[], wants: readonly boolean[]) => ReadonlyArray<Tensor | undefined>;

export type OpRule = { readonly type: string; readonly vjp: Vjp } | { readonly type: string; readonly nondifferentiable: true };

export const defineOp = <R extends OpRule>(rule: R): R => rule;

/** The table as a map, refusing a type written twice. */
export function ruleTable(rules: readonly OpRule[]): ReadonlyMap<string, OpRule> {
  const table = new Map<string, OpRule>();
  for (const rule of rules) {
    if (table.has(rule.type)) throw new Error(`op ${rule.type} has two gradient records`);
    table.set(rule.type, rule);
  }
  return table;
}
