import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { addNoise, predictX0, scaledLinearSchedule } from '../../../src-main/schedulers/ddpm-schedule.js';
import { SAMPLERS } from '../../../src-preload/contract/compose.js';
import { createSampler, guide, lcmBoundary, type SamplerName } from '../../../src-main/schedulers/sampler.js';
import { expectCloseToGolden, golden } from '../../helpers/reference-goldens.js';

const schedule = scaledLinearSchedule();

describe('DDPM scaled-linear schedule', () => {
  it('matches the closed form at its ends', () => {
    expect(schedule.betas[0]).toBeCloseTo(0.00085, 12);
    expect(schedule.betas[999]).toBeCloseTo(0.012, 12);
    expect(schedule.alphasCumprod[0]).toBeCloseTo(0.99915, 12);
    // √β is linear: β_t = (√0.00085 + t/999 (√0.012 − √0.00085))²
    const t = 500;
    expect(schedule.betas[t]).toBeCloseTo((Math.sqrt(0.00085) + (t / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2, 14);
    expect(schedule.alphasCumprod[999]).toBeCloseTo(0.00466, 5);
    let prod = 1;
    for (let i = 0; i <= 300; i++) prod *= 1 - schedule.betas[i]!;
    expect(schedule.alphasCumprod[300]).toBeCloseTo(prod, 14);
  });

  it('x̂0 inverts the forward process when ε is known', () => {
    const r = new SeededRandom(1);
    const x0 = r.normalArray(16);
    const eps = r.normalArray(16);
    const xt = addNoise(schedule, x0, eps, 700);
    predictX0(schedule, xt, eps, 700).forEach((v, i) => expect(v).toBeCloseTo(x0[i]!, 4));
  });
});

describe('samplers', () => {
  it('DDIM uses SD’s leading timesteps (981 … 1 for 50 steps)', () => {
    const s = createSampler('ddim', 50);
    expect(s.timesteps).toHaveLength(50);
    expect(s.timesteps.slice(0, 3)).toEqual([981, 961, 941]);
    expect(s.timesteps.at(-1)).toBe(1);
  });

  it('Euler starts at SD’s σ_max ≈ 14.6146', () => {
    const s = createSampler('euler', 30);
    expect(s.initNoiseSigma).toBeCloseTo(14.6146, 3);
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps.at(-1)).toBe(0);
  });

  it('Karras sigmas match diffusers (v0.31, use_karras_sigmas=True, 10 steps)', () => {
    // EulerDiscreteScheduler / DPMSolverMultistepScheduler(scaled_linear 0.00085…0.012).set_timesteps(10)
    const sigmas = [14.614645, 9.102936, 5.478401, 3.168611, 1.749423, 0.914076, 0.446921, 0.2014, 0.081911, 0.029168];
    const euler = createSampler('euler', 10, schedule, { karras: true });
    const eulerT = [999.0, 916.283997, 815.044922, 687.153259, 523.198914, 327.147217, 145.939026, 40.856873, 6.732409, 0.0];
    euler.timesteps.forEach((t, i) => expect(t).toBeCloseTo(eulerT[i]!, 2)); // diffusers computes in float32
    expect(euler.initNoiseSigma).toBeCloseTo(sigmas[0]!, 5);
    // σ itself, read back through the input scaling 1/√(σ²+1)
    const one = new Float32Array([1]);
    sigmas.forEach((sigma, i) => expect(1 / euler.scaleModelInput(one, i)[0]! ** 2 - 1).toBeCloseTo(sigma ** 2, 2));
    expect(createSampler('dpmpp2m', 10, schedule, { karras: true }).timesteps).toEqual([999, 916, 815, 687, 523, 327, 146, 41, 7, 0]);
    expect(() => createSampler('ddim', 10, schedule, { karras: true })).toThrow(
      /^Karras sigmas: only Euler, DPM\+\+ 2M, DPM\+\+ 2M SDE, DPM\+\+ SDE, UniPC take Karras sigmas, not DDIM$/,
    );
  });

  it.each([
    ['euler_a', false],
    ['dpmpp2m_sde', false],
    ['dpmpp2m_sde', true],
    ['dpmpp_sde', false],
    ['dpmpp_sde', true],
    ['lcm', false],
    ['tcd', false],
  ] as Array<[SamplerName, boolean]>)("%s (Karras σ: %s) follows diffusers step by step for 10 steps, given diffusers' step noise", (name, karras) => {
    const key = `toy.${name}${karras ? '.karras' : ''}`;
    const sampler = createSampler(name, 10, schedule, { karras });
    expect(sampler.stochastic).toBe(true);
    expectCloseToGolden(sampler.timesteps, `${key}.timesteps`);
    const noise = golden(`toy.${name}.step_noise`);
    const per = golden('toy.noise').length;
    let x: Float32Array = golden('toy.noise').map((v) => v * sampler.initNoiseSigma);
    const trajectory: number[] = [];
    sampler.timesteps.forEach((t, i) => {
      x = sampler.step(toyEps(sampler.scaleModelInput(x, i), t), i, x, noise.subarray(i * per, (i + 1) * per));
      trajectory.push(...x);
    });
    expectCloseToGolden(trajectory, `${key}.x`);
    // the last step lands on σ = 0: no noise is added there
    expect(sampler.coefficients(sampler.timesteps.length - 1).noise).toBe(0);
    expect(() => createSampler(name, 3).step(new Float32Array(4), 0, new Float32Array(4))).toThrow(/needs 4 values of fresh noise/);
  });

  it('offers Karras σ where diffusers has it, and says which samplers when it has not', () => {
    expect(() => createSampler('euler_a', 10, schedule, { karras: true })).toThrow(/not Euler a/);
    expect(() => createSampler('ddim', 10, schedule, { karras: true })).toThrow(/not DDIM/);
    expect(createSampler('dpmpp2m_sde', 10, schedule, { karras: true }).timesteps).toEqual([999, 916, 815, 687, 523, 327, 146, 41, 7, 0]);
  });

  // diffusers' schedulers driven by an imperfect, nonlinear ε-model (scripts/reference/make_goldens.py, toy_eps):
  // a perfect ε-oracle would land on x0 whatever DPM-Solver++'s correction or DDIM's intermediate ᾱ were
  const toyEps = (x: Float32Array, t: number) => x.map((v) => Math.tanh(0.7 * v) + 0.1 * Math.cos(t / 100));
  it.each([
    ['ddim', false],
    ['euler', false],
    ['euler', true],
    ['dpmpp2m', false],
    ['dpmpp2m', true],
    ['unipc', false],
    ['unipc', true],
  ] as Array<[SamplerName, boolean]>)('%s (Karras σ: %s) follows diffusers step by step for 10 steps', (name, karras) => {
    const key = `toy.${name}${karras ? '.karras' : ''}`;
    const sampler = createSampler(name, 10, schedule, { karras });
    expectCloseToGolden(sampler.timesteps, `${key}.timesteps`);
    let x: Float32Array = golden('toy.noise').map((v) => v * sampler.initNoiseSigma);
    const trajectory: number[] = [];
    sampler.timesteps.forEach((t, i) => {
      x = sampler.step(toyEps(sampler.scaleModelInput(x, i), t), i, x);
      trajectory.push(...x);
    });
    expectCloseToGolden(trajectory, `${key}.x`);
  });

  it.each(SAMPLERS.map((name) => [name]))(
    "img2img with %s: 10 steps at strength 0.6 follow diffusers' scheduler from the noised image on (the last 6 steps)",
    (name) => {
      const sampler = createSampler(name, 10, schedule, { strength: 0.6 });
      const key = `img2img.toy.${name}`;
      expectCloseToGolden(sampler.timesteps, `${key}.timesteps`);
      const init = golden('img2img.toy.init');
      const noise = golden('toy.noise');
      const steps = golden('img2img.toy.step_noise');
      const per = init.length;
      const start = sampler.noiseLevel(0);
      let x: Float32Array = init.map((v, j) => start.signal * v + start.noise * noise[j]!);
      const trajectory: number[] = [];
      sampler.timesteps.forEach((t, i) => {
        const fresh = sampler.stochastic ? steps.subarray(i * per, (i + 1) * per) : undefined;
        x = sampler.step(toyEps(sampler.scaleModelInput(x, i), t), i, x, fresh);
        trajectory.push(...x);
      });
      expectCloseToGolden(trajectory, `${key}.x`);
      // after the last step x is the image itself: no noise is left
      expect(sampler.noiseLevel(sampler.timesteps.length)).toEqual({ signal: 1, noise: 0 });
    },
  );

  it('img2img: a strength that runs no step is refused, saying how to fix it', () => {
    expect(() => createSampler('ddim', 10, schedule, { strength: 0.05 })).toThrow(
      /^strength 0\.05 runs no step of 10: raise the strength or the steps \(at least 1\/10\)$/,
    );
    expect(() => createSampler('ddim', 10, schedule, { strength: 0 })).toThrow(/strength must be more than 0/);
    expect(createSampler('ddim', 10, schedule, { strength: 1 }).timesteps).toEqual(createSampler('ddim', 10, schedule).timesteps);
  });

  it('classifier-free guidance extrapolates from the unconditional prediction', () => {
    expect(Array.from(guide(Float32Array.from([1, 2]), Float32Array.from([3, 2]), 7.5))).toEqual([16, 2]);
  });

  it('refuses a bad step count', () => {
    expect(() => createSampler('ddim', 0)).toThrow(/steps must be/);
    expect(() => createSampler('lcm', 51)).toThrow(/^LCM takes at most 50 steps \(it is made for 4 to 8\)/);
  });

  it('LCM and TCD take diffusers’ timesteps from the 50-step distillation schedule', () => {
    // diffusers v0.31 LCMScheduler / TCDScheduler .set_timesteps(n).timesteps
    expect(createSampler('lcm', 4).timesteps).toEqual([999, 759, 499, 259]);
    expect(createSampler('tcd', 8).timesteps).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
    expect(createSampler('lcm', 1).timesteps).toEqual([999]);
    expect(createSampler('tcd', 50).timesteps.at(-1)).toBe(19);
    // one step is the consistency model's x̂0 itself: no noise
    expect(createSampler('lcm', 1).coefficients(0).noise).toBe(0);
  });

  it('LCM’s boundary condition is diffusers’ (get_scalings_for_boundary_condition_discrete)', () => {
    // printed by diffusers v0.31 LCMScheduler for t = 0, 1, 19, 259
    const expected: Array<[number, number, number]> = [
      [0, 1, 0],
      [1, 0.0024937655860349127, 0.9987523388778445],
      [19, 6.92515979806234e-6, 0.9999965374141062],
      [259, 3.726837564778493e-8, 0.999999981365812],
    ];
    for (const [t, cSkip, cOut] of expected) {
      const got = lcmBoundary(t);
      expect(got.cSkip).toBeCloseTo(cSkip, 12);
      expect(got.cOut).toBeCloseTo(cOut, 12);
    }
  });
});
