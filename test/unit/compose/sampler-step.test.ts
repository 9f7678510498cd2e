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
});
