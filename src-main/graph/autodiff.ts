import { isFloat } from './dtype.js';
import { GraphError } from './errors.js';
import type { Graph } from './graph.js';
import type { Node, Tensor } from './ir.js';
import { add, like } from './ops/elementwise.js';
import { expand } from './ops/shape-ops.js';
import { carriesNoGradient, ruleOf } from './ops/gradients.js';

/**
 * Reverse-mode autodiff: appends to the loss's graph the nodes computing d loss / d w
 * for each w in `wrt`. Only nodes on a path from some w to the loss get gradient
 * work, so frozen sub-graphs that lead to no trainable tensor are skipped.
 * `seed` is the gradient of the loss itself (default 1; the loss must then be a scalar).
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!seed && loss.shape.length !== 0) throw new GraphError('grad', `the loss must be a scalar, got shape [${loss.shape}] (or pass a seed)`);
  if (!isFloat(loss.dtype)) throw new GraphError('grad', `the loss must be a float, got ${loss.dtype}`);
  if (!dependsOn(loss.graph, wrt).has(loss)) throw new GraphError('grad', 'the loss does not depend on any of the tensors to differentiate');
  return vjp([[loss, seed ?? like(loss, 1)]], wrt);
}

/** Tensors that depend on some of `wrt` through differentiable ops (forward reachability, in node order). */
export function dependsOn(graph: Graph, wrt: Iterable<Tensor>): Set<Tensor> {
  const reached = new Set<Tensor>(wrt);
  for (const node of graph.nodes) {
    if (carriesNoGradient(node.type)) continue;
    if (node.inputs.some((t) => t && reached.has(t))) for (const o of node.outputs) if (isFloat(o.dtype)) reached.add(o);
  }
  return reached;
}

/**
 * The vector-Jacobian product of several outputs at once: Σ_i seed_iᵀ · d out_i / d w for each w
 * (a segment of a checkpointed step gets its outputs' gradients from the segments after it).
 */
export function vjp(seeds: ReadonlyArray<readonly [Tensor, Tensor]>, wrt: readonly Tensor[]): Tensor[] {
  const graph = seeds[0]![0].graph;
  // 1. Tensors that depend on some w (forward reachability).
  const dependsOnWrt = dependsOn(graph, wrt);

  // 2. Walk back from the seeded outputs over nodes whose outputs both reach them and depend on some w.
  const grads = new Map<Tensor, Tensor>();
  for (const [out, seed] of seeds) {
    if (!dependsOnWrt.has(out)) continue;
    const previous = grads.get(out);
    grads.set(out, previous ? add(previous, seed) : seed);
  }
  const nodes = graph.nodes.slice();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const outGrads = node.outputs.map((o) => grads.get(o));
    if (outGrads.every((g) => g === undefined)) continue;
    const wants = node.inputs.map((t) => t !== null && dependsOnWrt.has(t));
    if (!wants.some(Boolean)) continue;
    const rule = ruleOf(node.type);
    if (!rule || !('vjp' in rule)) throw new GraphError('grad', `no gradient rule for ${node.type} (${node.name})`);
    const inGrads = rule.vjp(node, outGrads, wants);
    if (inGrads.length !== node.inputs.length) {
      throw new GraphError('grad', `the rule for ${node.type} gave ${inGrads.length} gradients for ${node.inputs.length} inputs (${node.name})`);
    }
    node.inputs.forEach((input, k) => {
      const g = inGrads[k];
      if (!input || !g || !wants[k]) return;
      checkGradient(node, input, g);
      const previous = grads.get(input);
      grads.set(input, previous ? add(previous, g) : g);
    });
  }
  // 3. A w the loss depends on only through non-differentiable paths gets zeros.
  return wrt.map((w) => grads.get(w) ?? expand(like(w, 0), w.shape));
}

function checkGradient(node: Node, input: Tensor, g: Tensor): void {
  if (g.shape.length !== input.shape.length || g.shape.some((d, i) => d !== input.shape[i])) {
    throw new GraphError('grad', `rule for ${node.type} gave a gradient of shape [${g.shape}] for ${input.name} of shape [${input.shape}]`);
  }
}
