// The reference pipeline in float16 on WebGPU (weights and activations between layers, as generation runs on
// GPUs), against diffusers' float32 goldens: within 2e-3 of each part's largest value, with matrix products,
// convolutions, attention and norms added up in float32 (decision 0006). Added up in float16, as WebGPU's
// float16 kernels do by themselves, the UNet is several times further off.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/graph/graph.js';
import type { Tensor } from '../../src-main/graph/ir.js';
import * as op from '../../src-main/graph/ops/index.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { unet } from '../../src-main/models/unet.js';
import { vaeDecode } from '../../src-main/models/vae.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { golden, goldenShape, REFERENCE_MODEL, runGraph } from '../helpers/reference-goldens.js';

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

async function runF16(
  build: (g: Graph) => Tensor,
  feeds: Record<string, Float32Array | BigInt64Array>,
  accumulation: Graph['halfAccumulation'],
): Promise<Float32Array> {
  const g = new Graph('f16');
  g.halfAccumulation = accumulation;
  g.output(op.cast(build(g), 'float32'), 'out');
  return (await runGraph(g, feeds, { cacheDir, provider: 'webgpu' })).out!;
}

const f16Input = (g: Graph, name: string, golden: string) => op.cast(g.input(name, 'float32', goldenShape(golden)), 'float16');

describe('float16 on WebGPU against the float32 goldens', () => {
  beforeAll(() => {
    model = openStableDiffusion(REFERENCE_MODEL);
    cacheDir = mkdtempSync(join(tmpdir(), 'si-f16-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  async function errors(accumulation: Graph['halfAccumulation']) {
    const text = await runF16(
      (g) =>
        clipTextEncoder(weightsFrom(g, model.textEncoder.source, { dtype: 'float16' }), model.textEncoder.config, {
          inputIds: g.input('ids', 'int64', goldenShape('text.ids')),
        }),
      { ids: BigInt64Array.from(golden('text.ids'), (v) => BigInt(v)) },
      accumulation,
    );
    const eps = await runF16(
      (g) =>
        unet(weightsFrom(g, model.unet.source, { prefix: 'unet.', dtype: 'float16' }), model.unet.config, {
          sample: f16Input(g, 'sample', 'unet.sample'),
          timestep: g.input('t', 'float32', goldenShape('unet.timestep')),
          encoderHiddenStates: f16Input(g, 'context', 'text.hidden'),
        }),
      { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden') },
      accumulation,
    );
    const decoded = await runF16(
      (g) => vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.', dtype: 'float16' }), model.vae.config, f16Input(g, 'latents', 'vae.latents')),
      { latents: golden('vae.latents') },
      accumulation,
    );
    return { text: relativeError(text, 'text.hidden'), unet: relativeError(eps, 'unet.eps'), vae: relativeError(decoded, 'vae.decoded') };
  }

  it('text encoder, UNet ε and VAE decoder each within 2e-3 (relative to max |value|); added up in float16, the UNet is not', async () => {
    const mixed = await errors('float32');
    console.log(`float16 on WebGPU, float32 accumulation, max relative error: ${JSON.stringify(mixed)}`);
    expect(mixed.text).toBeLessThan(2e-3);
    expect(mixed.unet).toBeLessThan(2e-3);
    expect(mixed.vae).toBeLessThan(2e-3);
    const half = await errors('float16');
    console.log(`float16 on WebGPU, float16 accumulation, max relative error: ${JSON.stringify(half)}`);
    expect(half.unet).toBeGreaterThan(2 * mixed.unet);
  });
});
