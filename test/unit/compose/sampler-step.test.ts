// The sampler's update as a graph (the device form) against the host form, step by step: the same
// coefficients, guidance, x̂0 carried to the next step, the next UNet input, and an ancestral sampler's noise.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { sessionForGraph } from '../../../src-main/graph/runtime/session.js';
import { samplerStepGraph, samplerStepK } from '../../../src-main/pipeline/compose/sampler-step.js';
import { createSampler, guide, type SamplerName, stepNoiseOf } from '../../../src-main/schedulers/sampler.js';

describe('sampler step graph', () => {
  it.each(['euler_a', 'dpmpp2m_sde', 'dpmpp_sde', 'dpmpp2m', 'ddim', 'unipc'] as SamplerName[])(
    '%s: the graph takes the host loop’s steps (6 steps, 2 images)',
    async (name) => {
      const [count, shape] = [2, [4, 2, 3] as [number, number, number]];
      const n = count * 24;
      const host = createSampler(name, 6);
      const device = createSampler(name, 6);
      const session = await sessionForGraph(samplerStepGraph(count, shape, { noise: device.stochastic, corrector: device.corrector }));
      const r = new SeededRandom(7);
      let hx: Float32Array = r.normalArray(n).map((v) => v * host.initNoiseSigma);
      let dx: Float32Array = Float32Array.from(hx);
      let prev: Float32Array = new Float32Array(n);
      let lastNoise: Float32Array | null = null;
      let prev2: Float32Array = new Float32Array(n);
      let last: Float32Array = new Float32Array(n);
      try {
        for (let i = 0; i < 6; i++) {
          const eps = r.normalArray(2 * n); // unconditional half first
          const fresh = r.normalArray(n);
          hx = host.step(guide(eps.subarray(0, n), eps.subarray(n), 7.5), i, hx, fresh);
          // the device gets the step's noise made as denoise.ts makes it (fresh, or carrying the last step's)
          const noise = (lastNoise = stepNoiseOf(device.coefficients(i), fresh, lastNoise));
          const out = await session.run({
            eps: { dtype: 'float32', shape: [2 * count, ...shape], data: eps },
            x: { dtype: 'float32', shape: [count, ...shape], data: dx },
            prev: { dtype: 'float32', shape: [count, ...shape], data: prev },
            k: samplerStepK(device, i, 7.5),
            ...(device.stochastic ? { noise: { dtype: 'float32' as const, shape: [count, ...shape], data: noise } } : {}),
            ...(device.corrector
              ? {
                  prev2: { dtype: 'float32' as const, shape: [count, ...shape], data: prev2 },
                  last: { dtype: 'float32' as const, shape: [count, ...shape], data: last },
                }
              : {}),
          });
          if (device.corrector) [prev2, last] = [prev, out.corrected!.data as Float32Array];
          [dx, prev] = [out.x_next!.data as Float32Array, out.x0!.data as Float32Array];
          const scale = Math.max(...hx.map(Math.abs));
          dx.forEach((v, j) => expect(Math.abs(v - hx[j]!), `${name} step ${i} at ${j}`).toBeLessThanOrEqual(1e-5 * scale));
          // the next UNet input: both halves, scaled for the next step
          const next = out.next_input!.data as Float32Array;
          const k = i + 1 < device.timesteps.length ? device.inputScale(i + 1) : 1;
          expect(Math.abs(next[n + 3]! - dx[3]! * k)).toBeLessThan(1e-5 * scale);
        }
      } finally {
        await session.release();
      }
    },
  );

  it('inpainting: outside the mask x is the start image at the next step’s noise level; inside, the plain step', async () => {
    const [count, shape] = [2, [4, 2, 3] as [number, number, number]];
    const n = count * 24;
    const sampler = createSampler('dpmpp2m', 6, undefined, { strength: 0.5 });
    const [plain, inpaint] = await Promise.all([
      sessionForGraph(samplerStepGraph(count, shape)),
      sessionForGraph(samplerStepGraph(count, shape, { inpaint: true })),
    ]);
    const r = new SeededRandom(3);
    const t = (data: Float32Array, dims: number[]) => ({ dtype: 'float32' as const, shape: dims, data });
    const one = [count, ...shape];
    // image 0: the left column kept; image 1: all redrawn but one cell half kept
    const mask = Float32Array.from({ length: count * 6 }, (_, j) => (j < 6 ? (j % 3 === 0 ? 0 : 1) : j === 6 ? 0.5 : 1));
    const [x0, e] = [r.normalArray(n), r.normalArray(n)];
    try {
      for (const i of [0, 1, 2]) {
        const feeds = {
          eps: t(r.normalArray(2 * n), [2 * count, ...shape]),
          x: t(r.normalArray(n), one),
          prev: t(r.normalArray(n), one),
          k: samplerStepK(sampler, i, 5),
        };
        const a = (await plain.run(feeds)).x_next!.data as Float32Array;
        const b = (await inpaint.run({ ...feeds, keep_mask: t(mask, [count, 1, 2, 3]), keep_x0: t(x0, one), keep_noise: t(e, one) })).x_next!
          .data as Float32Array;
        const level = sampler.noiseLevel(i + 1);
        b.forEach((v, j) => {
          const m = mask[Math.floor(j / 24) * 6 + (j % 6)]!;
          const kept = level.signal * x0[j]! + level.noise * e[j]!;
          expect(v, `step ${i} at ${j}`).toBeCloseTo(m * a[j]! + (1 - m) * kept, 4);
        });
      }
      // after the last step the kept part is the start image itself
      expect(sampler.noiseLevel(sampler.timesteps.length)).toEqual({ signal: 1, noise: 0 });
    } finally {
      await Promise.all([plain.release(), inpaint.release()]);
    }
  });
});
