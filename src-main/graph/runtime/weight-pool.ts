// Frozen weights held once, as onnxruntime tensors that every session of a step (and the next
// stage's) is fed, instead of each session loading its own copy. On a GPU provider that keeps tensors
// (WebGPU) they are uploaded once and fed from device memory: a sampler's 50 UNet calls, a training
// step's segments, Stage I, Stage II and the previews all read the same device copy.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DType, type HostArray, isFloat } from '../dtype.js';
import type { Initializer } from '../ir.js';
import { numel } from '../shape.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { DeviceTransfers, disposeTensor } from './device-tensors.js';
import { ORT_TYPE, ort, type OrtTensor } from './session.js';

/** Weights this small stay inside each graph (shapes, scalars, masks); larger ones are shared. */
const SHARE_FROM_ELEMENTS = 4096;

export const isSharedWeight = (init: Initializer) =>
  isFloat(init.tensor.dtype) && (init.value.kind === 'external' || numel(init.tensor.shape) >= SHARE_FROM_ELEMENTS);

export class WeightPool {
  private readonly byFileRange = new Map<string, OrtTensor>();
  private readonly byArray = new WeakMap<HostArray, OrtTensor>();
  private bytes = 0;
  /** Device copies by provider and weight key (uploaded by the process-wide DeviceTransfers, which outlive them). */
  private readonly onDevice = new Map<ExecutionProvider, Map<string | HostArray, OrtTensor>>();
  private deviceBytes = 0;

  /** The tensor for a weight: read from its file once (by file, range and type), or wrapping its array. */
  tensor(init: Initializer): OrtTensor {
    const { dtype, shape } = init.tensor;
    if (init.value.kind === 'inline') {
      const data = init.value.data;
      let t = this.byArray.get(data);
      if (!t) {
        t = new ort.Tensor(ORT_TYPE[dtype], data as never, [...shape]);
        this.byArray.set(data, t);
        this.bytes += data.byteLength;
      }
      return t;
    }
    const { file, offset, length } = init.value.ref;
    const key = this.keyOf(init) as string;
    let t = this.byFileRange.get(key);
    if (!t) {
      t = new ort.Tensor(ORT_TYPE[dtype], readRange(file, offset, length, dtype) as never, [...shape]);
      this.byFileRange.set(key, t);
      this.bytes += length;
    }
    return t;
  }

  /**
   * The weights' device copies on `provider`: those not there yet are uploaded together, in one run. A
   * file-backed weight's host copy is dropped once it is on the device (read again from the file if a
   * host session asks), so the host does not hold a second UNet.
   */
  async deviceTensors(inits: readonly Initializer[], provider: ExecutionProvider): Promise<OrtTensor[]> {
    let held = this.onDevice.get(provider);
    if (!held) this.onDevice.set(provider, (held = new Map()));
    const keys = inits.map((init) => this.keyOf(init));
    const missing = [...new Set(keys.filter((k) => !held.has(k)))];
    const byKey = new Map(inits.map((init, i) => [keys[i]!, init]));
    const host = missing.map((k) => this.tensor(byKey.get(k)!));
    const sent = await DeviceTransfers.of(provider).upload(host);
    missing.forEach((k, i) => {
      held.set(k, sent[i]!);
      const bytes = (host[i]!.data as HostArray).byteLength;
      this.deviceBytes += bytes;
      if (typeof k === 'string' && this.byFileRange.delete(k)) this.bytes -= bytes;
    });
    return keys.map((k) => held.get(k)!);
  }

  /** Bytes of weights held in device memory (all providers). */
  get deviceHeldBytes(): number {
    return this.deviceBytes;
  }

  /** Bytes held (file-backed and in-memory weights together). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Frees every device copy and forgets the host ones (the sessions fed from them must be gone). */
  clear(): void {
    for (const held of this.onDevice.values()) for (const t of held.values()) disposeTensor(t);
    this.onDevice.clear();
    this.deviceBytes = 0;
    this.byFileRange.clear();
    this.bytes = 0;
  }

  /** What makes a weight the same weight: its file, range and type, or its array. */
  private keyOf(init: Initializer): string | HostArray {
    if (init.value.kind === 'inline') return init.value.data;
    const { file, offset, length } = init.value.ref;
    return `${resolve(file)}:${statSync(file).mtimeMs}:${offset}:${length}:${init.tensor.dtype}`;
  }
}

/** A byte range of a file as a typed array of `dtype` (its own buffer, so it is aligned). */
function readRange(file: string, offset: number, length: number, dtype: DType): HostArray {
  const buffer = new ArrayBuffer(length);
  const bytes = new Uint8Array(buffer);
  const fd = openSync(file, 'r');
  try {
    for (let done = 0; done < length;) {
      const n = readSync(fd, bytes, done, Math.min(length - done, 1 << 30), offset + done);
      if (n === 0) throw new Error(`${file} ends before byte ${offset + length}: the weight file is truncated`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float16':
      return new Uint16Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    default:
      throw new Error(`Weights of type ${dtype} cannot be shared`);
  }
}
