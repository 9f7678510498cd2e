// Moving tensors between the host and a device provider's memory with onnxruntime alone: an upload is a run
// of an identity graph whose outputs stay on the device, a readback one whose outputs come to the host.
// (Calling getData() on a device tensor aborts the Node process in onnxruntime-node 1.30, so it never is.)
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import type { DType, HostArray } from '../dtype.js';
import { Graph } from '../graph.js';
import { encodeModel } from '../onnx/serialize.js';
import { GraphSession, type HostTensor, keepsTensorsOnDevice, type OrtTensor, toOrtTensor } from './session.js';

/** A tensor in the provider's memory (a WebGPU buffer), owned by whoever holds it until dispose(). */
export const isOnDevice = (t: OrtTensor): boolean => t.location !== 'cpu';

/** Frees a device tensor now rather than at collection; host tensors are left to the collector. */
export function disposeTensor(t: OrtTensor): void {
  if (isOnDevice(t)) t.dispose();
}

type Signature = ReadonlyArray<{ dtype: DType; shape: readonly number[] }>;

/**
 * One provider's upload and readback sessions, by the types and shapes they move. One per provider for the
 * process (deviceTransfers): a device tensor must not outlive the session that made it, and these live as
 * long as the process, so any holder may keep an upload as long as it likes.
 */
export class DeviceTransfers {
  private readonly sessions = new Map<string, Promise<GraphSession>>();

  private constructor(readonly provider: ExecutionProvider) {}

  private static readonly byProvider = new Map<ExecutionProvider, DeviceTransfers>();

  static of(provider: ExecutionProvider): DeviceTransfers {
    if (!keepsTensorsOnDevice(provider)) throw new Error(`Internal: ${provider} sessions cannot keep tensors on the device`);
    let t = DeviceTransfers.byProvider.get(provider);
    if (!t) DeviceTransfers.byProvider.set(provider, (t = new DeviceTransfers(provider)));
    return t;
  }

  /** Host tensors (or onnxruntime host tensors) → device tensors, in one run. */
  async upload(tensors: ReadonlyArray<HostTensor | OrtTensor>): Promise<OrtTensor[]> {
    if (!tensors.length) return [];
    const feeds = tensors.map((t) => ('location' in t ? t : toOrtTensor(t)));
    const session = await this.session('up', feeds);
    const out = await session.runOnDevice(Object.fromEntries(feeds.map((t, i) => [`x${i}`, t])));
    return feeds.map((_, i) => out[`y${i}`]!);
  }

  /** Device tensors → host tensors, in one run (the device tensors stay). */
  async readback(tensors: readonly OrtTensor[]): Promise<HostTensor[]> {
    if (!tensors.length) return [];
    const session = await this.session('down', tensors);
    const out = await session.runOnDevice(Object.fromEntries(tensors.map((t, i) => [`x${i}`, t])));
    return tensors.map((_, i) => {
      const t = out[`y${i}`]!;
      return { dtype: t.type as DType, shape: t.dims, data: t.data as HostArray };
    });
  }

  private session(direction: 'up' | 'down', tensors: ReadonlyArray<{ type: string; dims: readonly number[] }>): Promise<GraphSession> {
    const signature: Signature = tensors.map((t) => ({ dtype: t.type as DType, shape: t.dims }));
    const key = `${direction}:${signature.map((s) => `${s.dtype}[${s.shape.join(',')}]`).join(';')}`;
    let session = this.sessions.get(key);
    if (!session) {
      const g = new Graph(`${direction}load`);
      signature.forEach((s, i) => g.output(g.input(`x${i}`, s.dtype, s.shape), `y${i}`));
      session = GraphSession.load(encodeModel(g), { provider: this.provider, keepOnDevice: direction === 'up' });
      this.sessions.set(key, session);
    }
    return session;
  }
}
