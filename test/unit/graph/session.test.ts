import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { encodeModel } from '../../../src-main/graph/onnx/serialize.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { GraphSession } from '../../../src-main/graph/runtime/session.js';
import { probeProviders } from '../../../src-main/system/providers.js';

describe('GraphSession providers', () => {
  it('falls back to the CPU with a stated reason when the asked provider cannot start', async (ctx) => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    g.output(op.mul(x, x), 'y');
    const unusable = (await probeProviders()).filter((p) => !p.usable && p.name !== 'cpu');
    // a machine where every provider starts has nothing to fall back from (CI has no GPU, so this runs there)
    if (unusable.length === 0) ctx.skip();
    for (const provider of unusable) {
      const session = await GraphSession.load(encodeModel(g), { provider: provider.name });
      expect(session.provider).toBe('cpu');
      expect(session.fallback).toMatch(new RegExp(`The ${provider.name} execution provider could not start.*running on the CPU`));
      const y = await session.run({ x: { dtype: 'float32', shape: [3], data: Float32Array.from([1, 2, 3]) } });
      expect(Array.from(y.y!.data as Float32Array)).toEqual([1, 4, 9]);
    }
    const cpu = await GraphSession.load(encodeModel(g), { provider: 'cpu' });
    expect(cpu.fallback).toBeNull();
  });
});
