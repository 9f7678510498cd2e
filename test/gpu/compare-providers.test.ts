// The per-layer comparison tool (npm run -s compare:gpu) on WebGPU against the CPU: in float32 every layer
// agrees; in float16 it names the first layer whose error jumps.
import { describe, expect, it } from 'vitest';
import type { FloatDType } from '../../src-main/graph/dtype.js';
import { Graph } from '../../src-main/graph/graph.js';
import * as op from '../../src-main/graph/ops/index.js';
import { compareProviders, firstJump } from '../../src-main/graph/runtime/compare-providers.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import { golden, goldenShape, REFERENCE_MODEL } from '../helpers/reference-goldens.js';
import { tmpDir } from '../helpers/tmp.js';

async function textLayers(dtype: FloatDType) {
  const model = openStableDiffusion(REFERENCE_MODEL);
  const g = new Graph('text');
  const hidden = clipTextEncoder(weightsFrom(g, model.textEncoder.source, { dtype }), model.textEncoder.config, {
    inputIds: g.input('ids', 'int64', goldenShape('text.ids')),
  });
  g.output(op.cast(hidden, 'float32'), 'hidden');
  const ids = { dtype: 'int64' as const, shape: goldenShape('text.ids'), data: BigInt64Array.from(golden('text.ids'), (v) => BigInt(v)) };
  return compareProviders(g, { ids }, 'webgpu', 'cpu', { cacheDir: tmpDir() });
}

describe('comparing providers layer by layer', () => {
  it('float32: every layer of the text encoder within 1e-5; float16: the first jump is named', async () => {
    const f32 = await textLayers('float32');
    expect(f32.length).toBeGreaterThan(100);
    expect(Math.max(...f32.map((e) => e.relative))).toBeLessThan(1e-5);
    expect(firstJump(f32)).toBeNull();
    const jump = firstJump(await textLayers('float16'));
    expect(jump).not.toBeNull();
    expect(jump!.node).toMatch(/^text_model\./);
  });
});
