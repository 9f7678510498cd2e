// Output buffers for the sessions of a checkpointed step, reused by type and size: the step's
// checkpoints and gradients come and go in the same few sizes, so after the first step nothing is allocated.
import { BYTES_PER_ELEMENT, type DType, type HostArray } from '../dtype.js';
import { numel } from '../shape.js';
import { ORT_TYPE, ort, type OrtTensor } from './session.js';

const ARRAY: Partial<Record<DType, new (n: number) => HostArray>> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

export class BufferPool {
  private readonly free = new Map<string, HostArray[]>();
  private readonly zeroViews = new WeakSet<object>();
  private zeroBuffer = new Float32Array(0);
  private heldBytes = 0;
  private peakBytes = 0;

  /** A tensor of this type and shape over a free buffer (contents undefined: outputs overwrite it). */
  take(dtype: DType, shape: readonly number[]): OrtTensor {
    const n = numel(shape);
    const data = this.free.get(`${dtype}:${n}`)?.pop() ?? this.allocate(dtype, n);
    return new ort.Tensor(ORT_TYPE[dtype], data as never, [...shape]);
  }

  /** Back to the pool; the caller must not read the tensor again. */
  give(t: OrtTensor): void {
    const data = t.data as HostArray;
    if (this.zeroViews.has(data)) return;
    const key = `${t.type}:${data.length}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    if (!list.includes(data)) list.push(data);
  }

  /** A read-only float32 zero tensor (a gradient accumulator's start), views of one shared buffer. */
  zeros(shape: readonly number[]): OrtTensor {
    const n = numel(shape);
    if (this.zeroBuffer.length < n) this.zeroBuffer = new Float32Array(n);
    const view = this.zeroBuffer.subarray(0, n);
    this.zeroViews.add(view);
    return new ort.Tensor('float32', view, [...shape]);
  }

  /** Forgets every free buffer (the trainer is done). */
  clear(): void {
    this.free.clear();
    this.zeroBuffer = new Float32Array(0);
    this.heldBytes = 0;
  }

  /** Bytes this pool has allocated (in use or free), and the most it has held. */
  get stats(): { heldBytes: number; peakBytes: number } {
    return { heldBytes: this.heldBytes, peakBytes: this.peakBytes };
  }

  private allocate(dtype: DType, n: number): HostArray {
    const make = ARRAY[dtype];
    if (!make) throw new Error(`No buffers for ${dtype}`);
    this.heldBytes += n * BYTES_PER_ELEMENT[dtype];
    this.peakBytes = Math.max(this.peakBytes, this.heldBytes);
    return new make(n);
  }
}
