// How generation opens its sessions: holding their own weights, or reading them from a pool a
// training run already holds (then LoRA factors are fed too, so a LoRA under training keeps one graph).
import type { Graph } from '../../graph/graph.js';
import { type InferenceSession, ownSession, pooledSession } from '../../graph/runtime/pooled-session.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { isSharedWeight, type WeightPool } from '../../graph/runtime/weight-pool.js';
import { isLoraWeight } from '../../models/lora.js';

export type SessionLoader = (graph: Graph) => Promise<InferenceSession>;

export function sessionLoader(options: { provider: ExecutionProvider; cacheDir?: string; weights?: WeightPool }): SessionLoader {
  const { provider, cacheDir, weights } = options;
  return (g) =>
    weights
      ? pooledSession(g, weights, { provider, cacheDir, fed: (init) => isSharedWeight(init) || isLoraWeight(init.tensor.name) })
      : ownSession(g, { provider, cacheDir });
}
