// Where two providers part ways on one graph: every float intermediate becomes an output, the graph runs on
// both, and the layers are listed in graph order with their error relative to the reference's magnitude,
// so the first layer whose error jumps names where precision is lost (a float16 kernel on WebGPU, say).
// `SINGLEINSERT_COMPARE=cpu` runs it for the graphs of `npm run -s compare` (compare-cli.ts).
import { isFloat } from '../dtype.js';
import type { Graph } from '../graph.js';
import { cast } from '../ops/elementwise.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { type HostTensor, sessionForGraph } from './session.js';

export interface LayerError {
  /** The node that made the tensor, and its op. */
  node: string;
  op: string;
  /** max |a − b| / max |b| over the tensor. */
  relative: number;
}

/**
 * Runs `graph` with every float intermediate as an output (as float32) on `provider` and on `reference`,
 * and returns each node's error in graph order. The graph is the tool's: the probes are added to it.
 * `every` keeps one node in so many (big graphs).
 */
export async function compareProviders(
  graph: Graph,
  feeds: Record<string, HostTensor>,
  provider: ExecutionProvider,
  reference: ExecutionProvider,
  options: { cacheDir?: string; every?: number } = {},
): Promise<LayerError[]> {
  const every = options.every ?? 1;
  const probed = graph.nodes
    .filter((n, i) => i % every === 0 && n.type !== 'Identity')
    .flatMap((n) => n.outputs.filter((o) => isFloat(o.dtype) && o.shape.length > 0));
  probed.forEach((t, i) => graph.output(t.dtype === 'float16' ? cast(t, 'float32') : t, `probe:${i}`));
  const run = async (p: ExecutionProvider) => {
    const session = await sessionForGraph(graph, { provider: p, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
    try {
      return await session.run(feeds);
    } finally {
      await session.release();
    }
  };
  const [a, b] = [await run(provider), await run(reference)];
  return probed.map((t, i) => {
    const x = a[`probe:${i}`]!.data as Float32Array;
    const y = b[`probe:${i}`]!.data as Float32Array;
    let worst = 0;
    let scale = 0;
    for (let k = 0; k < y.length; k++) {
      worst = Math.max(worst, Math.abs(x[k]! - y[k]!));
      scale = Math.max(scale, Math.abs(y[k]!));
    }
    return { node: t.producer!.name, op: t.producer!.type, relative: scale ? worst / scale : worst };
  });
}

/** The first layer whose error is over `jump` × the largest error before it (and over `floor`). */
export function firstJump(errors: readonly LayerError[], jump = 4, floor = 1e-4): LayerError | null {
  let before = 0;
  for (const e of errors) {
    if (e.relative > floor && e.relative > jump * Math.max(before, floor / jump)) return e;
    before = Math.max(before, e.relative);
  }
  return null;
}
