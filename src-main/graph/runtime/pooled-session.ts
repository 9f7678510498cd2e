// An inference session that reads its large weights from a WeightPool instead of holding its own
// copy: a sampler next to a training run uses the weights the run already holds (SD 1.5's UNet is
// 3.4 GB in float32). Weights become graph inputs fed from the pool; values that change between
// runs of the same graph (a LoRA under training) are fed the same way, so the graph, its compiled
// file and its cache key stay the same.
import type { Graph } from '../graph.js';
import type { Initializer, Tensor } from '../ir.js';
import { forwardGraph, type Segment } from '../segments/partition.js';
import type { HostTensor, OrtTensor, SessionLoadOptions } from './session.js';
import { sessionForGraph } from './session.js';
import { isSharedWeight, type WeightPool } from './weight-pool.js';

/** What a sampler needs of a session, whether it holds its weights or reads them from a pool. */
export interface InferenceSession {
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
  /** Why the session runs on the CPU instead of the provider asked for, if it does. */
  readonly fallback: string | null;
}

export interface PooledSessionOptions extends SessionLoadOptions {
  cacheDir?: string;
  /** Which initializers are fed from the pool; the pool's rule (large float weights) by default. */
  fed?: (init: Initializer) => boolean;
}

export async function pooledSession(graph: Graph, pool: WeightPool, options: PooledSessionOptions = {}): Promise<InferenceSession> {
  const fed = options.fed ?? isSharedWeight;
  // the whole graph as one segment: its reads are its inputs and weights, its exports its outputs
  const made = new Set<Tensor>(graph.nodes.flatMap((n) => n.outputs));
  const reads = new Set<Tensor>();
  for (const n of graph.nodes) for (const t of n.inputs) if (t && !made.has(t)) reads.add(t);
  const segment: Segment = { index: 0, nodes: graph.nodes, reads: [...reads], exports: graph.outputs.map((o) => o.tensor) };
  const rebuilt = forwardGraph(segment, graph, fed);
  const byName = new Map(graph.initializers.map((i) => [i.tensor.name, i]));
  const weights: Record<string, OrtTensor> = {};
  for (const [slot, name] of rebuilt.inputs) {
    const init = byName.get(name);
    if (init) weights[slot] = pool.tensor(init);
  }
  const outputNames = new Map(graph.outputs.map((o, i) => [`o${i}`, o.name]));
  const session = await sessionForGraph(rebuilt.graph, options);
  return {
    fallback: session.fallback,
    release: () => session.release(),
    run: async (feeds) => {
      const out = await session.run(feeds, undefined, weights);
      return Object.fromEntries(Object.entries(out).map(([slot, t]) => [outputNames.get(slot) ?? slot, t]));
    },
  };
}

/** A session that holds its own weights, behind the same interface. */
export async function ownSession(graph: Graph, options: SessionLoadOptions & { cacheDir?: string } = {}): Promise<InferenceSession> {
  const session = await sessionForGraph(graph, options);
  return { fallback: session.fallback, release: () => session.release(), run: (feeds) => session.run(feeds) };
}
