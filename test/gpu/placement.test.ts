import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/graph/graph.js';
import { encodeModel } from '../../src-main/graph/onnx/serialize.js';
import * as op from '../../src-main/graph/ops/index.js';
import { offProvider, readPlacements } from '../../src-main/graph/runtime/placement.js';
import { GraphSession, PLACEMENT_ENV } from '../../src-main/graph/runtime/session.js';

describe('the node-placement check', () => {
  it('finds a compute node WebGPU leaves to the CPU (float64 has no WebGPU kernels), and passes shape arithmetic', async () => {
    const shared = process.env[PLACEMENT_ENV];
    const own = mkdtempSync(join(tmpdir(), 'si-placement-check-'));
    process.env[PLACEMENT_ENV] = own; // this session's profile is not the file's, which must stay clean
    try {
      const g = new Graph('mixed');
      const a = g.input('a', 'float32', [4, 4]);
      const b = g.input('b', 'float64', [4]);
      g.output(op.reshape(op.mul(a, a), [16]), 'y');
      g.output(op.add(b, b), 'z');
      const session = await GraphSession.load(encodeModel(g), { provider: 'webgpu' });
      await session.run({
        a: { dtype: 'float32', shape: [4, 4], data: new Float32Array(16).fill(2) },
        b: { dtype: 'float64', shape: [4], data: new Float64Array(4) },
      });
      await session.release();
      const placements = readPlacements(own, 'webgpu-');
      expect(placements.find((p) => p.op === 'Mul')?.provider).toBe('WebGpuExecutionProvider');
      expect(offProvider(placements, 'WebGpuExecutionProvider').map((p) => `${p.op} on ${p.provider}`)).toEqual(['Add on CPUExecutionProvider']);
    } finally {
      process.env[PLACEMENT_ENV] = shared;
      rmSync(own, { recursive: true, force: true });
    }
  });
});
