// The reference pipeline in float16 on WebGPU (weights and activations, as generation runs on GPUs),
// against diffusers' float32 goldens. The tolerances are what WebGPU's float16 kernels give today,
// stated so a regression shows; the target of 2e-3 per part needs float32 statistics (issue 23, part 3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/graph/graph.js';
import type { Tensor } from '../../src-main/graph/ir.js';
import * as op from '../../src-main/graph/ops/index.js';
import { sessionForGraph } from '../../src-main/graph/runtime/session.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { unet } from '../../src-main/models/unet.js';
import { vaeDecode } from '../../src-main/models/vae.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { golden, goldenShape, REFERENCE_MODEL } from '../helpers/reference-goldens.js';

let model: StableDiffusionModel;
let cacheDir: string;

/** Max |error| relative to the golden's max |value|. */
function relativeError(actual: Float32Array, name: string): number {
  const expected = golden(name);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return worst / scale;
}

async function runF16(build: (g: Graph) => Tensor, feeds: Record<string, Float32Array | BigInt64Array>): Promise<Float32Array> {
  const g = new Graph('f16');
  g.output(op.cast(build(g), 'float32'), 'out');
  const session = await sessionForGraph(g, { cacheDir, provider: 'webgpu' });
  try {
    const hostFeeds = Object.fromEntries(
      Object.entries(feeds).map(([name, data]) => [
        name,
        {
          dtype: data instanceof BigInt64Array ? ('int64' as const) : ('float32' as const),
          shape: [...g.inputs.find((i) => i.tensor.name === name)!.tensor.shape],
          data,
        },
      ]),
    );
    return (await session.run(hostFeeds)).out!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const f16Input = (g: Graph, name: string, golden: string) => op.cast(g.input(name, 'float32', goldenShape(golden)), 'float16');

describe('float16 on WebGPU against the float32 goldens', () => {
  beforeAll(() => {
    model = openStableDiffusion(REFERENCE_MODEL);
    cacheDir = mkdtempSync(join(tmpdir(), 'si-f16-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('text encoder within 5e-3, UNet ε within 1.5e-2, VAE decoder within 1.5e-2 (relative to max |value|)', async () => {
    const text = await runF16(
      (g) =>
        clipTextEncoder(weightsFrom(g, model.textEncoder.source, { dtype: 'float16' }), model.textEncoder.config, {
          inputIds: g.input('ids', 'int64', goldenShape('text.ids')),
        }),
      { ids: BigInt64Array.from(golden('text.ids'), (v) => BigInt(v)) },
    );
    const eps = await runF16(
      (g) =>
        unet(weightsFrom(g, model.unet.source, { prefix: 'unet.', dtype: 'float16' }), model.unet.config, {
          sample: f16Input(g, 'sample', 'unet.sample'),
          timestep: g.input('t', 'float32', goldenShape('unet.timestep')),
          encoderHiddenStates: f16Input(g, 'context', 'text.hidden'),
        }),
      { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden') },
    );
    const decoded = await runF16(
      (g) => vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.', dtype: 'float16' }), model.vae.config, f16Input(g, 'latents', 'vae.latents')),
      {
        latents: golden('vae.latents'),
      },
    );
    const errors = { text: relativeError(text, 'text.hidden'), unet: relativeError(eps, 'unet.eps'), vae: relativeError(decoded, 'vae.decoded') };
    console.log(`float16 on WebGPU, max relative error: ${JSON.stringify(errors)}`);
    expect(errors.text).toBeLessThan(5e-3);
    expect(errors.unet).toBeLessThan(1.5e-2);
    expect(errors.vae).toBeLessThan(1.5e-2);
  });
});
