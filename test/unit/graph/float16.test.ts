import { describe, expect, it } from 'vitest';
import type { FloatDType } from '../../../src-main/graph/dtype.js';
import { fromHalfArray, toHalf, toHalfArray, fromHalf } from '../../../src-main/graph/dtype.js';
import { Graph } from '../../../src-main/graph/graph.js';
import { attention, gelu, groupNorm, layerNorm, linear, silu } from '../../../src-main/graph/nn.js';
import { encodeModel } from '../../../src-main/graph/onnx/serialize.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { GraphSession } from '../../../src-main/graph/runtime/session.js';

describe('float16', () => {
  it('converts to and from half precision exactly where representable, rounding to nearest even', () => {
    for (const x of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24]) expect(fromHalf(toHalf(x))).toBe(x);
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1); // tie → even
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  it('a transformer + conv block in float16 stays within tolerance of float32', async () => {
    const rng = new SeededRandom(5);
    const weights = {
      w1: rng.normalArray(32 * 16).map((x) => x * 0.2),
      w2: rng.normalArray(16 * 32).map((x) => x * 0.2),
      conv: rng.normalArray(4 * 4 * 9).map((x) => x * 0.2),
    };
    const x = rng.normalArray(2 * 8 * 16);
    const img = rng.normalArray(1 * 4 * 8 * 8);
    const run = async (dtype: FloatDType) => {
      const g = new Graph();
      const w = (name: string, shape: number[], data: Float32Array) => g.weight(name, dtype, shape, dtype === 'float16' ? toHalfArray(data) : data);
      const ones = (n: number) => new Float32Array(n).fill(1);
      const xin = g.input('x', dtype, [2, 8, 16]);
      const h = layerNorm(xin, w('ln.w', [16], ones(16)), w('ln.b', [16], new Float32Array(16)));
      const mlp = linear(gelu(linear(h, w('w1', [32, 16], weights.w1))), w('w2', [16, 32], weights.w2));
      const q = op.reshape(mlp, [2, 1, 8, 16]);
      g.output(op.cast(attention(q, q, q), 'float32'), 'tokens');
      const imgIn = g.input('img', dtype, [1, 4, 8, 8]);
      const conv = op.conv2d(
        silu(groupNorm(imgIn, 2, w('gn.w', [4], ones(4)), w('gn.b', [4], new Float32Array(4)))),
        w('conv', [4, 4, 3, 3], weights.conv),
        null,
        { padding: 1 },
      );
      g.output(op.cast(conv, 'float32'), 'image');
      const session = await GraphSession.load(encodeModel(g));
      const feed = (data: Float32Array, shape: number[]) => ({ dtype, shape, data: dtype === 'float16' ? toHalfArray(data) : data });
      const out = await session.run({ x: feed(x, [2, 8, 16]), img: feed(img, [1, 4, 8, 8]) });
      return { tokens: out.tokens!.data as Float32Array, image: out.image!.data as Float32Array };
    };
    const full = await run('float32');
    const half = await run('float16');
    for (const key of ['tokens', 'image'] as const) {
      const maxAbs = Math.max(...full[key].map(Math.abs));
      const maxErr = Math.max(...full[key].map((v, i) => Math.abs(v - half[key][i]!)));
      expect(maxErr / maxAbs, key).toBeLessThan(1e-2);
      expect(maxAbs).toBeGreaterThan(0.1);
    }
    expect(fromHalfArray(toHalfArray([1.5, -3]))).toEqual(Float32Array.from([1.5, -3]));
  });
});
