import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHalfArray } from '../../../src-main/graph/dtype.js';
import { readSafetensorsHeader, readTensorAsFloat32, writeSafetensors } from '../../../src-main/weights/safetensors.js';
import { tmpDir } from '../../helpers/tmp.js';

function rawFile(header: unknown, data = Buffer.alloc(0), headerLengthOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors', () => {
  it('round-trips F32, F16 and BF16 tensors and keeps __metadata__', () => {
    const path = join(tmpDir(), 'w.safetensors');
    const a = Float32Array.from([1, -2.5, 3.25, 0]);
    const bf16 = Uint16Array.from([0x3f80, 0xc020]); // 1.0, -2.5
    writeSafetensors(
      path,
      {
        'layer.weight': { dtype: 'F32', shape: [2, 2], data: a },
        'layer.half': { dtype: 'F16', shape: [3], data: toHalfArray([0.5, 1, -4]) },
        'layer.bf': { dtype: 'BF16', shape: [2], data: bf16 },
      },
      { format: 'pt', note: 'test' },
    );
    const file = readSafetensorsHeader(path);
    expect(file.metadata).toEqual({ format: 'pt', note: 'test' });
    expect([...file.tensors.keys()].sort()).toEqual(['layer.bf', 'layer.half', 'layer.weight']);
    expect(file.tensors.get('layer.weight')).toMatchObject({ dtype: 'F32', shape: [2, 2], length: 16 });
    expect((8 + Number(readFileSync(path).readBigUInt64LE(0))) % 8).toBe(0);
    expect(readTensorAsFloat32(file, 'layer.weight')).toEqual(a);
    expect(Array.from(readTensorAsFloat32(file, 'layer.half'))).toEqual([0.5, 1, -4]);
    expect(Array.from(readTensorAsFloat32(file, 'layer.bf'))).toEqual([1, -2.5]);
  });

  const cases: Array<[string, Buffer, RegExp]> = [
    ['shorter than 8 bytes', Buffer.from([1, 2, 3]), /shorter than/],
    ['a header length of 2^60', rawFile({}, Buffer.alloc(0), 1n << 60n), /claims/],
    ['a header past the end (truncated)', rawFile({}, Buffer.alloc(0), 4096n), /truncated/],
    ['a header that is not JSON', rawFile('{not json'), /not JSON/],
    ['an unknown dtype', rawFile({ t: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /unsupported dtype/],
    ['a size that does not fit the shape', rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, Buffer.alloc(8)), /needs 16/],
    ['data past the end of the file', rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)), /past the end/],
    ['negative offsets', rawFile({ t: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, Buffer.alloc(8)), /bad data_offsets/],
    [
      'overlapping tensors',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, Buffer.alloc(12)),
      /overlap/,
    ],
  ];
  it('accepts an empty tensor whose offset falls inside another (it holds no bytes)', () => {
    const path = join(tmpDir(), 'empty.safetensors');
    writeFileSync(
      path,
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] } }, Buffer.alloc(8)),
    );
    expect(readSafetensorsHeader(path).tensors.get('e')).toMatchObject({ shape: [0], length: 0 });
  });

  it.each(cases)('refuses a file with %s, with a message that says so', (_label, bytes, pattern) => {
    const path = join(tmpDir(), 'bad.safetensors');
    writeFileSync(path, bytes);
    expect(() => readSafetensorsHeader(path)).toThrow(pattern);
    try {
      readSafetensorsHeader(path);
    } catch (err) {
      expect((err as { code: string }).code).toBe('corrupt-file');
    }
  });
});
