// Frozen weights held once, as onnxruntime tensors that every session of a step (and the next
// stage's) is fed, instead of each session loading its own copy.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DType, type HostArray, isFloat } from '../dtype.js';
import type { Initializer } from '../ir.js';
import { numel } from '../shape.js';
import { ORT_TYPE, ort, type OrtTensor } from './session.js';

/** Weights this small stay inside each graph (shapes, scalars, masks); larger ones are shared. */
const SHARE_FROM_ELEMENTS = 4096;

export const isSharedWeight = (init: Initializer) =>
  isFloat(init.tensor.dtype) && (init.value.kind === 'external' || numel(init.tensor.shape) >= SHARE_FROM_ELEMENTS);

export class WeightPool {
  private readonly byFileRange = new Map<string, OrtTensor>();
  private readonly byArray = new WeakMap<HostArray, OrtTensor>();
  private bytes = 0;

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
    const key = `${resolve(file)}:${statSync(file).mtimeMs}:${offset}:${length}:${dtype}`;
    let t = this.byFileRange.get(key);
    if (!t) {
      t = new ort.Tensor(ORT_TYPE[dtype], readRange(file, offset, length, dtype) as never, [...shape]);
      this.byFileRange.set(key, t);
      this.bytes += length;
    }
    return t;
  }

  /** Bytes held (file-backed and in-memory weights together). */
  get heldBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.byFileRange.clear();
    this.bytes = 0;
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
