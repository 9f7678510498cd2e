import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { encodeModel, writeModel } from '../../../src-main/graph/onnx/serialize.js';
import { validateGraph } from '../../../src-main/graph/onnx/validate.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { cachedModel } from '../../../src-main/graph/runtime/compile-cache.js';
import { GraphSession } from '../../../src-main/graph/runtime/session.js';
import { tmpDir } from '../../helpers/tmp.js';

const rng = new SeededRandom(11);
const W = rng.normalArray(64 * 32);
const X = rng.normalArray(2 * 64);

/** y = x @ W, with W inline, in weights.bin, or inside a safetensors-like file. */
function model(weight: (g: Graph) => op.Tensor): Graph {
  const g = new Graph();
  g.output(op.matmul(g.input('x', 'float32', [2, 64]), weight(g)), 'y');
  return g;
}

async function run(source: string | Uint8Array): Promise<Float32Array> {
  const session = await GraphSession.load(source);
  const out = (await session.run({ x: { dtype: 'float32', shape: [2, 64], data: X } })).y!.data as Float32Array;
  await session.release();
  return out;
}

describe('ONNX serialization', () => {
  it('inline, external weights.bin, and a byte range of the user’s file all give the same result', async () => {
    const inline = await run(encodeModel(model((g) => g.weight('w', 'float32', [64, 32], W))));

    const dir = tmpDir();
    const written = writeModel(
      model((g) => g.weight('w', 'float32', [64, 32], W)),
      join(dir, 'ext'),
    );
    expect(written.weightBytes).toBe(W.byteLength);
    expect(statSync(written.modelPath).size).toBeLessThan(2000);
    expect(await run(written.modelPath)).toEqual(inline);

    // a header, then the tensor, as in a .safetensors file: referenced, not copied
    const header = Buffer.alloc(136, 0x20);
    const userFile = join(dir, 'user-weights.safetensors');
    writeFileSync(userFile, Buffer.concat([header, Buffer.from(W.buffer)]));
    const linked = writeModel(
      model((g) => g.weight('w', 'float32', [64, 32], { file: userFile, offset: 136, length: W.byteLength })),
      join(dir, 'linked'),
    );
    expect(linked.weightBytes).toBe(0);
    expect(await run(linked.modelPath)).toEqual(inline);
  });

  it('loads a graph whose weights pass 2 GB (a sparse file, so the test costs no disk)', async () => {
    const dir = tmpDir();
    const file = join(dir, 'huge.bin');
    const rows = 140_000_000; // × 4 float32 = 2.24 GB
    const fd = openSync(file, 'w');
    ftruncateSync(fd, rows * 16);
    writeSync(fd, Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer), 0, 16, (rows - 1) * 16);
    closeSync(fd);
    const g = new Graph();
    const table = g.weight('table', 'float32', [rows, 4], { file, offset: 0, length: rows * 16 });
    g.output(op.gather(table, g.input('ids', 'int64', [2])), 'y');
    const session = await GraphSession.load(writeModel(g, join(dir, 'model')).modelPath);
    const out = await session.run({ ids: { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, BigInt(rows - 1)]) } });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    await session.release();
  });

  it('the compile cache writes a graph once and finds it again; other weights make another entry', () => {
    const root = tmpDir();
    const first = cachedModel(
      model((g) => g.weight('w', 'float32', [64, 32], W)),
      root,
    );
    const second = cachedModel(
      model((g) => g.weight('w', 'float32', [64, 32], W)),
      root,
    );
    expect(first.hit).toBe(false);
    expect(second).toEqual({ ...first, hit: true });
    const other = cachedModel(
      model((g) =>
        g.weight(
          'w',
          'float32',
          [64, 32],
          W.map((x) => x + 1),
        ),
      ),
      root,
    );
    expect(other.key).not.toBe(first.key);
    expect(existsSync(other.modelPath)).toBe(true);
  });

  it('validates structure before onnxruntime sees the model', () => {
    const g = new Graph();
    expect(() => validateGraph(g)).toThrow(/no outputs/);
    const other = new Graph();
    const stray = other.input('stray', 'float32', [1]);
    g.nodes.push({ type: 'Neg', name: 'bad', inputs: [stray], outputs: [], attrs: {} });
    g.output(g.input('x', 'float32', [1]), 'y');
    expect(() => encodeModel(g)).toThrow(/reads stray before it is computed/);
  });

  it('writes a model file that does not contain the weights it points at', () => {
    const dir = tmpDir();
    const { modelPath } = writeModel(
      model((g) => g.weight('w', 'float32', [64, 32], W)),
      dir,
    );
    expect(readFileSync(modelPath).includes(Buffer.from(W.buffer).subarray(0, 64))).toBe(false);
  });
});
