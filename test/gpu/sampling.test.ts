// Sampling on WebGPU: the latents stay on the device between UNet calls (the sampler's update is a graph
// there), the UNet's weights are uploaded once from a pool, and in float32 the image is the CPU's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transfersSince, transferTotals, type TransferCounts } from '../../src-main/graph/runtime/transfers.js';
import { WeightPool } from '../../src-main/graph/runtime/weight-pool.js';
import { generateImages, vaeFactor } from '../../src-main/pipeline/compose/generate.js';
import { SAMPLER_STEP_NUMBERS } from '../../src-main/pipeline/compose/sampler-step.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { writeTinyDiffusers } from '../helpers/tiny-checkpoint.js';

let model: StableDiffusionModel;
let cacheDir: string;

const SETTINGS = {
  prompt: 'a photo of a dog',
  negative: '',
  steps: 5,
  guidance: 7.5,
  seed: 3,
  count: 1,
  sampler: 'ddim' as const,
  karras: false,
  width: 64,
  height: 64,
};

async function pixels(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array((await sharp(png).raw().toBuffer()).buffer);
}

describe('sampling on WebGPU', () => {
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'si-sampling-'));
    model = openStableDiffusion(writeTinyDiffusers(join(cacheDir, 'tiny-sd')));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('float32 with pooled weights: the CPU’s image, and after the first step only the timestep and the step’s numbers cross', async () => {
    const cpu = await generateImages(model, SETTINGS, { provider: 'cpu', cacheDir });
    const pool = new WeightPool();
    const steps: TransferCounts[] = [];
    let last = transferTotals();
    const gpu = await generateImages(model, SETTINGS, {
      provider: 'webgpu',
      dtype: 'float32',
      cacheDir,
      weights: pool,
      onProgress: () => {
        steps.push(transfersSince(last));
        last = transferTotals();
      },
    });
    pool.clear();
    expect(gpu.fallback).toBeNull();
    const [a, b] = [await pixels(cpu.images[0]!.png), await pixels(gpu.images[0]!.png)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    console.log(`sampling on WebGPU, host↔device per step (with the preview's latents): ${JSON.stringify(steps)}`);
    expect(steps).toHaveLength(5);
    // up: the timestep (2 images' worth) and the step's numbers; back: the latents, for the preview, and nothing else
    const factor = vaeFactor(model);
    const latentBytes = 4 * model.unet.config.inChannels * (SETTINGS.width / factor) * (SETTINGS.height / factor);
    for (const s of steps.slice(1)) expect(s).toEqual({ uploadBytes: 4 * (2 + SAMPLER_STEP_NUMBERS), readbackBytes: latentBytes, uploads: 2, readbacks: 1 });
  });

  it('float16 (the GPU default) draws the CPU float32 image: mean difference within 2/255, none over 16/255', async () => {
    const cpu = await generateImages(model, SETTINGS, { provider: 'cpu', cacheDir });
    const gpu = await generateImages(model, SETTINGS, { provider: 'webgpu', cacheDir });
    const [a, b] = [await pixels(cpu.images[0]!.png), await pixels(gpu.images[0]!.png)];
    let sum = 0;
    let worst = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      sum += d;
      worst = Math.max(worst, d);
    }
    console.log(`float16 on WebGPU against CPU float32, 5 DDIM steps: mean ${(sum / a.length).toFixed(2)}/255, max ${worst}/255`);
    expect(sum / a.length).toBeLessThanOrEqual(2);
    expect(worst).toBeLessThanOrEqual(16);
  });
});
