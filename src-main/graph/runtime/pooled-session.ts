// An inference session that reads its large weights from a WeightPool instead of holding its own
// copy: a sampler next to a training run uses the weights the run already holds (SD 1.5's UNet is
// 3.4 GB in float32). Weights become graph inputs fed from the pool; values that change between
// runs of the same graph (a LoRA under training) are fed the same way, so the graph, its compiled
// file and its cache key stay the same.
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import type { Graph } from '../graph.js';
import type { Initializer, Tensor } from '../ir.js';
import { forwardGraph, type Segment } from '../segments/partition.js';
import { DeviceTransfers, isOnDevice } from './device-tensors.js';
import { type GraphSession, type HostTensor, keepsTensorsOnDevice, type OrtTensor, type SessionLoadOptions, sessionForGraph, toOrtTensor } from './session.js';
import { isSharedWeight, type WeightPool } from './weight-pool.js';

/** What a sampler needs of a session, whether it holds its weights or reads them from a pool. */
export interface InferenceSession {
  /** Host tensors in and out (read back from the device when it computes there). */
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /**
   * Tensors in and out where the session computes: on a provider that keeps tensors (WebGPU) its outputs
   * stay in device memory for the next run, and the caller disposes them; host tensors elsewhere.
   */
  runTensors(feeds: Record<string, OrtTensor | HostTensor>): Promise<Record<string, OrtTensor>>;
  /** Whether runTensors' outputs are device tensors. */
  readonly onDevice: boolean;
  /** The provider it runs on (the CPU after a fallback). */
  readonly provider: ExecutionProvider;
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
  const session = await load(rebuilt.graph, options);
  // the pool's weights: uploaded once where the session keeps tensors on the device, host tensors elsewhere
  const slots = [...rebuilt.inputs].filter(([, name]) => byName.has(name));
  const inits = slots.map(([, name]) => byName.get(name)!);
  const tensors = keeps(session) ? await pool.deviceTensors(inits, session.provider) : inits.map((i) => pool.tensor(i));
  const weights: Record<string, OrtTensor> = Object.fromEntries(slots.map(([slot], i) => [slot, tensors[i]!]));
  const outputNames = new Map(graph.outputs.map((o, i) => [`o${i}`, o.name]));
  return wrap(session, weights, (slot) => outputNames.get(slot) ?? slot);
}

/** A tensor's values on the host: itself there, read back from the device (which keeps it) otherwise. */
export async function hostValues(session: InferenceSession, t: OrtTensor): Promise<HostTensor> {
  if (!isOnDevice(t)) return { dtype: t.type as HostTensor['dtype'], shape: t.dims, data: t.data as HostTensor['data'] };
  return (await DeviceTransfers.of(session.provider).readback([t]))[0]!;
}

/** Host tensors where the session computes: uploaded once for many runs on the device, wrapped on the host. */
export async function tensorsFor(session: InferenceSession, tensors: readonly HostTensor[]): Promise<OrtTensor[]> {
  return session.onDevice ? DeviceTransfers.of(session.provider).upload(tensors) : tensors.map(toOrtTensor);
}

/** A session that holds its own weights, behind the same interface. */
export async function ownSession(graph: Graph, options: SessionLoadOptions & { cacheDir?: string } = {}): Promise<InferenceSession> {
  return wrap(await load(graph, options), {}, (name) => name);
}

/** Loaded to keep its outputs on the device wherever the provider can. */
const load = (graph: Graph, options: SessionLoadOptions & { cacheDir?: string }) =>
  sessionForGraph(graph, { ...options, keepOnDevice: options.provider !== undefined && keepsTensorsOnDevice(options.provider) });

const keeps = (session: GraphSession) => keepsTensorsOnDevice(session.provider);

function wrap(session: GraphSession, weights: Record<string, OrtTensor>, rename: (slot: string) => string): InferenceSession {
  const onDevice = keeps(session);
  const runTensors = async (feeds: Record<string, OrtTensor | HostTensor>) => {
    const ortFeeds: Record<string, OrtTensor> = { ...weights };
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = 'location' in t ? t : toOrtTensor(t);
    const out = await session.runOnDevice(ortFeeds);
    return Object.fromEntries(Object.entries(out).map(([slot, t]) => [rename(slot), t]));
  };
  return {
    onDevice,
    provider: session.provider,
    fallback: session.fallback,
    release: () => session.release(),
    runTensors,
    run: async (feeds) => {
      const out = await runTensors(feeds);
      const names = Object.keys(out);
      const device = names.filter((n) => isOnDevice(out[n]!));
      const host = device.length ? await DeviceTransfers.of(session.provider).readback(device.map((n) => out[n]!)) : [];
      device.forEach((n) => out[n]!.dispose());
      const back = new Map(device.map((n, i) => [n, host[i]!]));
      return Object.fromEntries(
        names.map((n) => [n, back.get(n) ?? { dtype: out[n]!.type as HostTensor['dtype'], shape: out[n]!.dims, data: out[n]!.data as HostTensor['data'] }]),
      );
    },
  };
}
