// A bounds-checked reader and writer of .safetensors files: nothing in a file is trusted
// before it is checked against the file's real size.
import { fsyncSync, closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { AppError } from '../common/app-error.js';
import { fromHalf } from '../graph/dtype.js';
import { openRegularSync } from '../common/regular-file.js';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };
/** Real headers are a few hundred KB; anything near this is not a weight file. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute byte range in the file. */
  offset: number;
  length: number;
}

export interface SafetensorsFile {
  path: string;
  size: number;
  metadata: Record<string, string>;
  tensors: Map<string, TensorEntry>;
}

const bad = (path: string, why: string) =>
  new AppError('corrupt-file', `${path} is not a valid .safetensors file: ${why}. Download it again or export it anew.`);

/** Reads and checks the header only; tensor data stays on disk. */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  const fd = openRegularSync(path, 'a .safetensors file');
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw bad(path, 'it is shorter than its 8-byte header length');
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLength = lenBuf.readBigUInt64LE(0);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) throw bad(path, `its header claims ${headerLength} bytes (limit ${MAX_HEADER_BYTES})`);
    const n = Number(headerLength);
    if (8 + n > size) throw bad(path, `its header (${n} bytes) runs past the end of the file (${size} bytes); the file is truncated`);
    const headerBuf = Buffer.alloc(n);
    readSync(fd, headerBuf, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw bad(path, 'its header is not JSON');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad(path, 'its header is not a JSON object');
    const dataStart = 8 + n;
    const dataSize = size - dataStart;
    const metadata: Record<string, string> = {};
    const tensors = new Map<string, TensorEntry>();
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof value !== 'object' || value === null) throw bad(path, '__metadata__ is not an object');
        for (const [k, v] of Object.entries(value)) if (typeof v === 'string') metadata[k] = v;
        continue;
      }
      tensors.set(name, checkEntry(path, name, value, dataStart, dataSize));
    }
    // a 0-byte tensor holds no bytes, so it overlaps nothing wherever its offset points
    const ranges = [...tensors.values()].filter((t) => t.length > 0).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]!.offset < ranges[i - 1]!.offset + ranges[i - 1]!.length) throw bad(path, `tensors ${ranges[i - 1]!.name} and ${ranges[i]!.name} overlap`);
    }
    return { path, size, metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

function checkEntry(path: string, name: string, value: unknown, dataStart: number, dataSize: number): TensorEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof v !== 'object' || v === null) throw bad(path, `entry ${name} is not an object`);
  if (typeof v.dtype !== 'string' || !(v.dtype in DTYPE_BYTES))
    throw bad(path, `tensor ${name} has ${v.dtype === undefined ? 'no dtype' : `an unsupported dtype ${JSON.stringify(v.dtype)}`}`);
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(path, `tensor ${name} has a bad shape`);
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
    throw bad(path, `tensor ${name} has bad data_offsets`);
  }
  const dtype = v.dtype as SafetensorsDType;
  const shape = v.shape as number[];
  const [begin, end] = offsets as [number, number];
  const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) throw bad(path, `tensor ${name} is ${end - begin} bytes but ${dtype}[${shape}] needs ${expected}`);
  if (end > dataSize) throw bad(path, `tensor ${name} ends at byte ${dataStart + end}, past the end of the file; the file is truncated`);
  return { name, dtype, shape, offset: dataStart + begin, length: end - begin };
}

const NON_FINITE: Partial<Record<SafetensorsDType, { bytes: number; test: (view: DataView, at: number) => boolean }>> = {
  F32: { bytes: 4, test: (v, at) => (v.getUint32(at, true) & 0x7f800000) === 0x7f800000 },
  F16: { bytes: 2, test: (v, at) => (v.getUint16(at, true) & 0x7c00) === 0x7c00 },
  BF16: { bytes: 2, test: (v, at) => (v.getUint16(at, true) & 0x7f80) === 0x7f80 },
};

/**
 * The first float tensor holding a NaN or an infinity (read in chunks, the whole file once), or null.
 * A model with one draws nothing but NaN: it is refused when installed.
 */
export function firstNonFiniteTensor(file: SafetensorsFile): string | null {
  const chunk = Buffer.alloc(16 << 20);
  const fd = openSync(file.path, 'r');
  try {
    for (const t of file.tensors.values()) {
      const kind = NON_FINITE[t.dtype];
      if (!kind) continue;
      for (let done = 0; done < t.length;) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, t.length - done), t.offset + done);
        if (n === 0) break;
        const view = new DataView(chunk.buffer, chunk.byteOffset, n - (n % kind.bytes));
        for (let at = 0; at < view.byteLength; at += kind.bytes) if (kind.test(view, at)) return t.name;
        done += n;
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** One tensor's bytes, converted to float32 for float types (BF16 and F16 widened). */
export function readTensorAsFloat32(file: SafetensorsFile, name: string): Float32Array {
  const entry = file.tensors.get(name);
  if (!entry) throw new AppError('not-found', `${file.path} has no tensor ${name}`);
  const bytes = readRange(file.path, entry.offset, entry.length);
  const n = entry.length / DTYPE_BYTES[entry.dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = fromHalf(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16ToFloat(view.getUint16(i * 2, true));
      break;
    default:
      throw new AppError('invalid-input', `${name} is ${entry.dtype}, not a float tensor`);
  }
  return out;
}

function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const read = readSync(fd, buf, 0, length, offset);
    if (read !== length) throw bad(path, 'it ended while a tensor was read');
    return buf;
  } finally {
    closeSync(fd);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bf16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: number[];
  data: ArrayBufferView;
}

/** Writes a .safetensors file (temp file, then rename: never half-written). */
export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name]!;
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) throw new Error(`${name}: ${t.data.byteLength} bytes for ${t.dtype}[${t.shape}]`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(headerBytes.length));
    writeSync(fd, len);
    writeSync(fd, headerBytes);
    for (const name of names) {
      const d = tensors[name]!.data;
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    fsyncSync(fd); // on disk before it takes the name: a crash leaves the old file or the new one
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}
