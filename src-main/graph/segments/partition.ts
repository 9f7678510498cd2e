// Cuts a step graph at its checkpoints (Graph.checkpoint) into segments, and rebuilds each as a
// graph of its own: a forward graph that emits the segment's exports, and a backward graph that
// recomputes the segment from its reads and returns the gradients of those reads. Where memory
// allows, a segment's forward also emits the activations its gradient reads (its residuals), and
// its backward takes them instead of recomputing them.
import { dependsOn, vjp } from '../autodiff.js';
import { isFloat } from '../dtype.js';
import { Graph } from '../graph.js';
import type { Initializer, Node, Tensor } from '../ir.js';
import { add } from '../ops/elementwise.js';
import { carriesNoGradient } from '../ops/gradients.js';
import { reshape } from '../ops/shape-ops.js';
import { numel } from '../shape.js';

export interface Segment {
  readonly index: number;
  readonly nodes: readonly Node[];
  /** Tensors made outside it that it reads: graph inputs, weights, earlier segments' exports. */
  readonly reads: readonly Tensor[];
  /** Tensors it makes that later segments or the step's targets need. */
  readonly exports: readonly Tensor[];
}

/** The live nodes (those a target needs) between consecutive cuts, with what crosses each boundary. */
export function partition(graph: Graph, targets: readonly Tensor[]): Segment[] {
  // 1. Live nodes: those some target depends on
  const needed = new Set<Tensor>(targets);
  const live = new Set<Node>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    live.add(n);
    for (const t of n.inputs) if (t) needed.add(t);
  }
  // 2. Contiguous node ranges between cuts
  const bounds = [0, ...graph.cuts.filter((c) => c > 0 && c < graph.nodes.length), graph.nodes.length];
  const ranges: Node[][] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const nodes = graph.nodes.slice(bounds[i], bounds[i + 1]).filter((n) => live.has(n));
    if (nodes.length) ranges.push(nodes);
  }
  // 3. Reads and exports
  const madeIn = new Map<Tensor, number>();
  ranges.forEach((nodes, k) => {
    for (const n of nodes) for (const o of n.outputs) madeIn.set(o, k);
  });
  const reads = ranges.map(() => new Set<Tensor>());
  const exports = ranges.map(() => new Set<Tensor>());
  ranges.forEach((nodes, k) => {
    for (const n of nodes) {
      for (const t of n.inputs) {
        if (!t || madeIn.get(t) === k) continue;
        reads[k]!.add(t);
        const maker = madeIn.get(t);
        if (maker !== undefined) exports[maker]!.add(t);
      }
    }
  });
  for (const t of targets) {
    const maker = madeIn.get(t);
    if (maker !== undefined) exports[maker]!.add(t);
  }
  return ranges.map((nodes, index) => ({ index, nodes, reads: [...reads[index]!], exports: [...exports[index]!] }));
}

/** Tensors from which some target can be reached through differentiable ops. */
export function reachesBackward(nodes: readonly Node[], targets: Iterable<Tensor>): Set<Tensor> {
  const reached = new Set<Tensor>(targets);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (carriesNoGradient(n.type) || !n.outputs.some((o) => reached.has(o))) continue;
    for (const t of n.inputs) if (t && isFloat(t.dtype)) reached.add(t);
  }
  return reached;
}

/** Names of the values a backward segment takes and gives. */
export const gradName = (t: Tensor) => `grad:${t.name}`;
export const accName = (t: Tensor) => `grad_acc:${t.name}`;
export const LOSS_SCALE = 'loss_scale';

/**
 * One segment graph with its bindings. Its values are named by position (r0…, o0…, g0…), not by
 * the tensors they carry, so segments of the same structure on the same weights (the UNet on the
 * concept prompt and on the class prompt) give the same model and share one session.
 */
export interface SegmentGraph {
  graph: Graph;
  /** Input name → the step value it is fed (a tensor's name, or grad:/grad_acc: a tensor's name). */
  inputs: Map<string, string>;
  /** Output name → the step value it gives. */
  outputs: Map<string, string>;
}

/**
 * A segment as a graph of its own. Reads that are `shared(init)` weights become inputs named as the
 * weight (fed from one tensor that every session shares); other initializers (shapes, scalars) are
 * copied in; params and step inputs keep their names.
 */
function rebuild(name: string, segment: Segment, source: Graph, shared: (init: Initializer) => boolean): SegmentGraph & { map: Map<Tensor, Tensor> } {
  const g = new Graph(name);
  const map = new Map<Tensor, Tensor>();
  const inputs = new Map<string, string>();
  const named = new Set(source.inputs.map((i) => i.tensor));
  let slot = 0;
  for (const t of segment.reads) {
    const init = source.initializerOf(t);
    if (init && !shared(init)) {
      map.set(t, g.weight(`c${slot++}`, t.dtype, t.shape, init.value.kind === 'inline' ? init.value.data : init.value.ref));
      continue;
    }
    const inputName = init || named.has(t) ? t.name : `r${slot++}`;
    map.set(t, g.input(inputName, t.dtype, t.shape));
    inputs.set(inputName, t.name);
  }
  for (const n of segment.nodes) {
    const ins = n.inputs.map((t) => (t ? map.get(t)! : null));
    const outs = g.addNode(
      n.type,
      ins,
      n.attrs,
      n.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape })),
    );
    n.outputs.forEach((o, i) => map.set(o, outs[i]!));
  }
  return { graph: g, map, inputs, outputs: new Map() };
}

/** Drops nodes no output needs (a backward graph does not need all of the recomputed forward). */
function prune(g: Graph): void {
  const needed = new Set<Tensor>(g.outputs.map((o) => o.tensor));
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const t of n.inputs) if (t) needed.add(t);
  }
  g.nodes.splice(0, g.nodes.length, ...keep.reverse());
  // constants only the dropped nodes read go too (onnxruntime warns about each one left)
  const used = g.initializers.filter((init) => needed.has(init.tensor));
  g.initializers.splice(0, g.initializers.length, ...used);
}

/** A segment's forward; `residuals` (a stored segment's, see backwardGraph) are emitted after its exports. */
export function forwardGraph(segment: Segment, source: Graph, shared: (init: Initializer) => boolean, residuals: readonly Tensor[] = []): SegmentGraph {
  const { graph, map, inputs, outputs } = rebuild('fwd', segment, source, shared);
  [...segment.exports, ...residuals].forEach((t, i) => {
    graph.output(map.get(t)!, `o${i}`);
    outputs.set(`o${i}`, t.name);
  });
  return { graph, inputs, outputs };
}

export interface BackwardSpec {
  /** Exports whose gradient the segments after it (or the loss) give. */
  gradOut: readonly Tensor[];
  /** Reads whose gradient it returns. */
  gradIn: readonly Tensor[];
  /** Reads whose gradient adds to an earlier-computed one (fed as grad_acc:name). */
  accumulate: ReadonlySet<Tensor>;
  /** The loss, seeded with the loss_scale input, if this segment makes it. */
  loss: Tensor | null;
}

/**
 * A segment's backward. It recomputes the segment's forward from the segment's reads; given `residuals`
 * (the step's tensors the gradient reads, as a first build without them returns), it takes those as inputs instead and
 * recomputes nothing they cover.
 */
export function backwardGraph(
  segment: Segment,
  source: Graph,
  shared: (init: Initializer) => boolean,
  spec: BackwardSpec,
  residuals: readonly Tensor[] = [],
): SegmentGraph & { residuals: Tensor[]; recomputedElements: number } {
  const { graph: g, map, inputs, outputs } = rebuild('bwd', segment, source, shared);
  const recomputed = new Set(g.nodes);
  const seeds = spec.gradOut.map((t, i) => {
    if (t === spec.loss) {
      inputs.set(LOSS_SCALE, LOSS_SCALE);
      return [map.get(t)!, reshape(g.input(LOSS_SCALE, t.dtype, []), t.shape)] as const;
    }
    inputs.set(`g${i}`, gradName(t));
    return [map.get(t)!, g.input(`g${i}`, t.dtype, t.shape)] as const;
  });
  const grads = vjp(
    seeds,
    spec.gradIn.map((t) => map.get(t)!),
  );
  spec.gradIn.forEach((t, i) => {
    let gr = grads[i]!;
    if (spec.accumulate.has(t)) {
      inputs.set(`a${i}`, accName(t));
      gr = add(g.input(`a${i}`, t.dtype, t.shape), gr);
    }
    g.output(gr, `d${i}`);
    outputs.set(`d${i}`, gradName(t));
  });
  prune(g);
  // the recomputed activations the gradient's own nodes read: what storing the segment would keep
  const fromSource = new Map([...map].map(([src, mine]) => [mine, src]));
  const read = new Set<Tensor>();
  for (const n of g.nodes) if (!recomputed.has(n)) for (const t of n.inputs) if (t && fromSource.has(t) && isRecomputed(t, recomputed)) read.add(t);
  const found = [...read].map((t) => fromSource.get(t)!);
  // what recomputing costs, in elements made (a proxy for its time)
  let recomputedElements = 0;
  for (const n of g.nodes) if (recomputed.has(n)) for (const o of n.outputs) recomputedElements += numel(o.shape);
  if (residuals.length) {
    residuals.forEach((t, i) => {
      const slot = `k${i}`;
      g.replaceUses(map.get(t)!, g.input(slot, t.dtype, t.shape));
      inputs.set(slot, t.name);
    });
    prune(g);
  }
  return { graph: g, inputs, outputs, residuals: found, recomputedElements };
}

const isRecomputed = (t: Tensor, recomputed: ReadonlySet<Node>) => t.producer !== null && recomputed.has(t.producer);

/**
 * Which exports of each segment get a gradient (the loss, or what a later segment gives one for) and
 * which of its reads it gives one for, worked out from the last segment back.
 */
export function gradientFlow(segments: readonly Segment[], source: Graph, loss: Tensor, params: readonly Tensor[]) {
  const wrt = dependsOn(source, params);
  const given = new Set<Tensor>();
  const flow: Array<{ gradOut: Tensor[]; gradIn: Tensor[] }> = [];
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    const gradOut = s.exports.filter((t) => wrt.has(t) && (t === loss || given.has(t)));
    const reach = reachesBackward(s.nodes, gradOut);
    const gradIn = gradOut.length ? s.reads.filter((t) => wrt.has(t) && reach.has(t)) : [];
    for (const t of gradIn) given.add(t);
    flow[i] = { gradOut: gradIn.length ? gradOut : [], gradIn };
  }
  return flow;
}
