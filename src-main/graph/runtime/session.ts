import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { DType, HostArray } from '../dtype.js';
import type { Graph } from '../graph.js';
import { encodeModel } from '../onnx/serialize.js';
import { cachedModel } from './compile-cache.js';
import { missingRequirement } from './provider-requirements.js';
import { countReadback, countUpload } from './transfers.js';
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
    private profiling = false,
  ) {}

  static async load(model: string | Uint8Array, options: SessionLoadOptions = {}): Promise<GraphSession> {
    const wanted = options.provider ?? 'cpu';
    const placementDir = process.env[PLACEMENT_ENV];
    const sessionOptions = (provider: ExecutionProvider): Ort.InferenceSession.SessionOptions => ({
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(options.keepOnDevice && keepsTensorsOnDevice(provider) ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      // where each node ran, from onnxruntime's own profile of the session's first run (the GPU tests read it);
      // onnxruntime stamps the file name to the second only, so each session's prefix is its own
      ...(placementDir ? { enableProfiling: true, profileFilePrefix: join(placementDir, `${provider}-${process.pid}-${threadId}-${++profiledSessions}`) } : {}),
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      // many sessions of one step: a per-session arena would keep each one's peak for good
      ...(options.manySessions ? { enableCpuMemArena: false, enableMemPattern: false, extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    });
    const fallback = async (why: string) => {
      if (process.env[REQUIRE_PROVIDER_ENV])
        throw new Error(`The ${wanted} execution provider could not start (${why}), and ${REQUIRE_PROVIDER_ENV} forbids the CPU fallback`);
      return new GraphSession(
        await createSession(model, sessionOptions('cpu')),
        'cpu',
        `The ${wanted} execution provider could not start (${why}); running on the CPU instead, which is much slower.`,
        !!placementDir,
      );
    };
    const missing = wanted === 'cpu' ? null : missingRequirement(wanted, ORT_BINARY_DIR);
    if (missing) return fallback(missing);
    try {
      return new GraphSession(await createSession(model, sessionOptions(wanted)), wanted, null, !!placementDir);
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

  /** Host tensors in, host tensors out (a session loaded with `keepOnDevice` runs through runOnDevice instead). */
  async run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(t);
    const result = await this.counted(ortFeeds, () => (outputs ? this.session.run(ortFeeds, [...outputs]) : this.session.run(ortFeeds)));
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      if (t.location !== 'cpu') throw new Error(`Internal: ${name} is on the device; run() returns host tensors (use runOnDevice)`);
      out[name] = { dtype: fromOrtType(t.type), shape: t.dims, data: t.data as HostArray };
    }
    return out;
  }

  /** A run on onnxruntime tensors as they are: feeds shared, outputs written into `fetches` (no copies). */
  async runTensors(feeds: Record<string, Ort.Tensor>, fetches: Record<string, Ort.Tensor>): Promise<void> {
    await this.counted(feeds, () => this.session.run(feeds, fetches));
  }

  /**
   * A run whose outputs stay where the session puts them (on the device for a session loaded with
   * `keepOnDevice`): the caller owns them and disposes device ones.
   */
  async runOnDevice(feeds: Record<string, Ort.Tensor>, outputs?: readonly string[]): Promise<Record<string, Ort.Tensor>> {
    return this.counted(feeds, () => (outputs ? this.session.run(feeds, [...outputs]) : this.session.run(feeds)));
  }

  /** Runs `run`, counting host feeds to a device session as uploads and its host outputs as readbacks. */
  private async counted(feeds: Record<string, Ort.Tensor>, run: () => Promise<Record<string, Ort.Tensor>>): Promise<Record<string, Ort.Tensor>> {
    const onDevice = this.provider !== 'cpu';
    if (onDevice) for (const t of Object.values(feeds)) if (t.location === 'cpu') countUpload(hostBytes(t));
    const result = await run();
    this.profiled();
    if (onDevice) for (const t of Object.values(result)) if (t.location === 'cpu') countReadback(hostBytes(t));
    return result;
  }

  /** Profiles cover the first run only: enough to see where every node ran, without a file per step. */
  private profiled(): void {
    if (!this.profiling) return;
    this.profiling = false;
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    this.profiled();
    await this.session.release();
  }
}

const hostBytes = (t: Ort.Tensor) => (t.data as HostArray).byteLength;

/** A host tensor as an onnxruntime tensor over the same memory (no copy). */
export function toOrtTensor(t: HostTensor): Ort.Tensor {
  // ORT's constructor is overloaded per element type; HostArray matches ORT_TYPE[t.dtype] by construction
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, [...t.shape]);
}

/** Set to a folder: every session writes onnxruntime's profile of its first run there (node placement). */
export const PLACEMENT_ENV = 'SINGLEINSERT_PLACEMENT_DIR';
/** Sessions profiled so far by this thread (names each one's profile). */
let profiledSessions = 0;
/** Set: a provider that cannot start is an error, not a CPU fallback (the GPU tests). */
export const REQUIRE_PROVIDER_ENV = 'SINGLEINSERT_REQUIRE_PROVIDER';

/**
 * Whether sessions on `provider` can leave outputs in device memory for the next run. onnxruntime-node binds
 * device outputs as WebGPU buffers only; on CUDA every feed and output crosses the host (counted in transfers.ts).
 */
export const keepsTensorsOnDevice = (provider: ExecutionProvider): boolean => provider === 'webgpu';

export interface SessionLoadOptions {
  provider?: ExecutionProvider;
  /** Outputs stay on the provider's device (read with runOnDevice; see device-tensors.ts). */
  keepOnDevice?: boolean;
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
