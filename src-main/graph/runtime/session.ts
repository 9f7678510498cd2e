import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { DType, HostArray } from '../dtype.js';
import type { Graph } from '../graph.js';
import { encodeModel } from '../onnx/serialize.js';
import { cachedModel } from './compile-cache.js';
import { missingRequirement } from './provider-requirements.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';

/**
 * onnxruntime's own log, which prints to the terminal (red "Failed to load library …providers_shared"
 * lines while a provider is probed): quiet unless SINGLEINSERT_ORT_LOG asks for more. Failures still
 * reach the code as errors, which say what happened in one line.
 */
export function quietOrt<T extends { env: object }>(binding: T): T {
  const level = process.env.SINGLEINSERT_ORT_LOG;
  (binding.env as { logLevel?: string }).logLevel = level === 'verbose' || level === 'info' || level === 'warning' || level === 'error' ? level : 'fatal';
  return binding;
}

const require = createRequire(import.meta.url);

/**
 * The one onnxruntime binding: every session and tensor of the app (the engine's graphs, SAM, GroundingDINO)
 * and the provider probe come from this module.
 */
export const ort = quietOrt(require('onnxruntime-node') as typeof Ort);
export type OrtTensor = Ort.Tensor;

/** Where onnxruntime-node keeps its native libraries for this platform (the CUDA provider is fetched into it). */
export const ORT_BINARY_DIR = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);

export interface HostTensor {
  dtype: DType;
  shape: readonly number[];
  data: HostArray;
}

export const ORT_TYPE: Record<DType, Ort.Tensor.Type> = {
  float32: 'float32',
  float16: 'float16',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};

/**
 * One ONNX model loaded in onnxruntime on the provider the settings ask for.
 * If that provider cannot start, the session falls back to the CPU and says why in `fallback`.
 */
export class GraphSession {
  private constructor(
    private readonly session: Ort.InferenceSession,
    readonly provider: ExecutionProvider,
    readonly fallback: string | null,
  ) {}

  static async load(model: string | Uint8Array, options: SessionLoadOptions = {}): Promise<GraphSession> {
    const wanted = options.provider ?? 'cpu';
    const sessionOptions = (provider: ExecutionProvider): Ort.InferenceSession.SessionOptions => ({
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      // many sessions of one step: a per-session arena would keep each one's peak for good
      ...(options.manySessions ? { enableCpuMemArena: false, enableMemPattern: false, extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    });
    const fallback = async (why: string) =>
      new GraphSession(
        await createSession(model, sessionOptions('cpu')),
        'cpu',
        `The ${wanted} execution provider could not start (${why}); running on the CPU instead, which is much slower.`,
      );
    const missing = wanted === 'cpu' ? null : missingRequirement(wanted, ORT_BINARY_DIR);
    if (missing) return fallback(missing);
    try {
      return new GraphSession(await createSession(model, sessionOptions(wanted)), wanted, null);
    } catch (err) {
      if (wanted === 'cpu') throw err;
      return fallback((err as Error).message.split('\n')[0]!);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** `preset`: feeds that are onnxruntime tensors already (shared weights), passed as they are. */
  async run(feeds: Record<string, HostTensor>, outputs?: readonly string[], preset: Record<string, Ort.Tensor> = {}): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, Ort.Tensor> = { ...preset };
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(t);
    const result = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { dtype: fromOrtType(t.type), shape: t.dims, data: t.data as HostArray };
    }
    return out;
  }

  /** A run on onnxruntime tensors as they are: feeds shared, outputs written into `fetches` (no copies). */
  async runTensors(feeds: Record<string, Ort.Tensor>, fetches: Record<string, Ort.Tensor>): Promise<void> {
    await this.session.run(feeds, fetches);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A host tensor as an onnxruntime tensor over the same memory (no copy). */
export function toOrtTensor(t: HostTensor): Ort.Tensor {
  // ORT's constructor is overloaded per element type; HostArray matches ORT_TYPE[t.dtype] by construction
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, [...t.shape]);
}

export interface SessionLoadOptions {
  provider?: ExecutionProvider;
  threads?: number;
  /** One of the many sessions of a checkpointed step: no per-session memory arena, no spinning threads. */
  manySessions?: boolean;
}

/**
 * From a file (external data resolved beside it) or from bytes (everything inline). onnxruntime declares
 * the two as separate overloads of one function, which TypeScript will not pick for a union.
 */
const createSession = ort.InferenceSession.create as (
  model: string | Uint8Array,
  options: Ort.InferenceSession.SessionOptions,
) => Promise<Ort.InferenceSession>;

function fromOrtType(type: Ort.Tensor.Type): DType {
  const entry = Object.entries(ORT_TYPE).find(([, v]) => v === type);
  if (!entry) throw new Error(`Unsupported output type ${type}`);
  return entry[0] as DType;
}

/**
 * A session for a graph: from the compile cache when `cacheDir` is given (needed for weights
 * that live in files), else from bytes in memory.
 */
export async function sessionForGraph(graph: Graph, options: SessionLoadOptions & { cacheDir?: string } = {}): Promise<GraphSession> {
  if (options.cacheDir) return GraphSession.load(cachedModel(graph, options.cacheDir).modelPath, options);
  if (graph.initializers.some((i) => i.value.kind === 'external')) {
    throw new Error(`Graph ${graph.name} reads weights from files; give it a cache folder to write the model into.`);
  }
  return GraphSession.load(encodeModel(graph), options);
}
