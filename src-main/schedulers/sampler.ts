import { KARRAS_SAMPLERS, SAMPLER_LABELS, type SamplerName, STOCHASTIC_SAMPLERS } from '../../src-preload/contract/compose.js';
import { type NoiseSchedule, scaledLinearSchedule, TRAIN_TIMESTEPS } from './ddpm-schedule.js';

export type { SamplerName };

/**
 * One step of a sampler as numbers: every sampler here is linear in x, the guided ε̂, the previous step's
 * x̂0 and (ancestral samplers) fresh standard-normal noise z, so one rule serves the host loop and the device
 * graph (compose/sampler-step.ts):
 *   x_next = x·x + eps·ε̂ + prev·x̂0_prev + noise·z,   and this step's x̂0 = x0x·x + x0eps·ε̂ (the next step's x̂0_prev).
 */
export interface StepCoefficients {
  x: number;
  eps: number;
  prev: number;
  x0x: number;
  x0eps: number;
  /** The weight of the step's fresh noise (0 for the deterministic samplers). */
  noise: number;
}

/**
 * One sampling loop's schedule and update rule. The caller, for i = 0…steps−1:
 * feeds `scaleModelInput(x, i)` (x·inputScale(i)) and `timesteps[i]` to the UNet, gets ε̂ (after guidance),
 * then sets x = step(ε̂, i, x). The first x is noise × initNoiseSigma.
 */
export interface Sampler {
  readonly name: SamplerName;
  /** Whether its steps add fresh noise (then each step is given some: see `step`). */
  readonly stochastic: boolean;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma: number;
  /** The factor on x of the UNet's input at step i. */
  inputScale(i: number): number;
  coefficients(i: number): StepCoefficients;
  scaleModelInput(x: Float32Array, i: number): Float32Array;
  /** The host form of the step (it keeps x̂0 for the next step); the device runs the same coefficients. `noise`: step i's z. */
  step(eps: Float32Array, i: number, x: Float32Array, noise?: Float32Array): Float32Array;
}

export interface SamplerOptions {
  /** Karras et al.'s σ spacing (ρ = 7) instead of evenly spaced timesteps: σ-space samplers only. */
  karras?: boolean;
}

type SamplerRule = Pick<Sampler, 'name' | 'timesteps' | 'initNoiseSigma' | 'inputScale' | 'coefficients'>;

export function createSampler(name: SamplerName, steps: number, schedule: NoiseSchedule = scaledLinearSchedule(), options: SamplerOptions = {}): Sampler {
  if (!Number.isInteger(steps) || steps < 1 || steps > TRAIN_TIMESTEPS) throw new RangeError(`steps must be 1…${TRAIN_TIMESTEPS}, got ${steps}`);
  if (options.karras && !KARRAS_SAMPLERS.includes(name))
    throw new RangeError(`Karras sigmas go with the Euler and DPM-Solver++(2M) samplers, not ${SAMPLER_LABELS[name]}`);
  switch (name) {
    case 'ddim':
      return onHost(ddim(steps, schedule));
    case 'euler':
    case 'euler_a':
    case 'dpmpp2m':
    case 'dpmpp2m_sde':
      return onHost(sigmaSampler(name, steps, schedule, options.karras === true));
  }
}

/** The rule's host loop: x·scale in, and each step from its coefficients, keeping x̂0 for the next. */
function onHost(rule: SamplerRule): Sampler {
  let previousX0: Float32Array | null = null;
  return {
    ...rule,
    stochastic: STOCHASTIC_SAMPLERS.includes(rule.name),
    scaleModelInput: (x, i) => {
      const c = rule.inputScale(i);
      return x.map((v) => v * c);
    },
    step: (eps, i, x, noise) => {
      const k = rule.coefficients(i);
      if (k.noise && noise?.length !== x.length) throw new RangeError(`${rule.name} step ${i} needs ${x.length} values of fresh noise`);
      const prev = previousX0;
      previousX0 = x.map((xi, j) => k.x0x * xi + k.x0eps * eps[j]!);
      return x.map((xi, j) => k.x * xi + k.eps * eps[j]! + (k.prev && prev ? k.prev * prev[j]! : 0) + (k.noise ? k.noise * noise![j]! : 0));
    },
  };
}

/** DDIM (η = 0) with SD's "leading" spacing and steps_offset 1: 981, 961, …, 1 for 50 steps. */
function ddim(steps: number, { alphasCumprod }: NoiseSchedule): SamplerRule {
  const ratio = Math.floor(TRAIN_TIMESTEPS / steps);
  const timesteps = Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + 1);
  return {
    name: 'ddim',
    timesteps,
    initNoiseSigma: 1,
    inputScale: () => 1,
    coefficients: (i) => {
      const t = timesteps[i]!;
      const prev = t - ratio;
      const at = alphasCumprod[t]!;
      const aPrev = prev >= 0 ? alphasCumprod[prev]! : alphasCumprod[0]!; // SD: final ᾱ is ᾱ_0, not 1
      const [sa, s1, sp, s1p] = [Math.sqrt(at), Math.sqrt(1 - at), Math.sqrt(aPrev), Math.sqrt(1 - aPrev)];
      // x̂0 = (x − √(1−ᾱ)·ε̂)/√ᾱ, x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·ε̂
      return { x: sp / sa, eps: s1p - (sp * s1) / sa, prev: 0, x0x: 1 / sa, x0eps: -s1 / sa, noise: 0 };
    },
  };
}

/**
 * Samplers in σ-space (x = x0 + σ·ε, σ = √((1−ᾱ)/ᾱ)) with "linspace" timesteps,
 * σ interpolated at fractional timesteps, as diffusers' Euler and DPM-Solver++ do.
 */
function sigmaSampler(name: Exclude<SamplerName, 'ddim'>, steps: number, { alphasCumprod }: NoiseSchedule, karras: boolean): SamplerRule {
  const trained = Array.from(alphasCumprod, (a) => Math.sqrt((1 - a) / a));
  const sigmaAt = (t: number) => {
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, TRAIN_TIMESTEPS - 1);
    const f = t - lo;
    return (1 - f) * trained[lo]! + f * trained[hi]!;
  };
  const euler = name === 'euler' || name === 'euler_a';
  const even = euler ? eulerTimesteps(steps) : dpmTimesteps(steps);
  const spaced = karras ? karrasSigmas(trained[0]!, trained[TRAIN_TIMESTEPS - 1]!, steps) : even.map(sigmaAt);
  // the model is told the timestep of each σ (diffusers: fractional for Euler, rounded for DPM-Solver++)
  const timesteps = karras ? spaced.map((sigma) => (euler ? timestepOf(sigma, trained) : Math.round(timestepOf(sigma, trained)))) : even;
  const sigmas = [...spaced, 0];
  return {
    name,
    timesteps,
    // diffusers starts DPM-Solver++ from pure noise in its variance-preserving x, which is noise·√(σ²+1) here
    initNoiseSigma: euler ? sigmas[0]! : Math.sqrt(sigmas[0]! ** 2 + 1),
    inputScale: (i) => 1 / Math.sqrt(sigmas[i]! ** 2 + 1),
    coefficients: (i) => {
      const sigma = sigmas[i]!;
      const next = sigmas[i + 1]!;
      // x̂0 = x − σ·ε̂ in every case
      const x0 = { x0x: 1, x0eps: -sigma, noise: 0 };
      if (name === 'euler_a') {
        // Euler ancestral: down to σ_down along ε̂, then noise back up by σ_up (σ_down² + σ_up² = σ_next²)
        const up = Math.sqrt((next ** 2 * (sigma ** 2 - next ** 2)) / sigma ** 2);
        const down = Math.sqrt(next ** 2 - up ** 2);
        return { x: 1, eps: down - sigma, prev: 0, ...x0, noise: up };
      }
      if (name === 'euler' || next === 0) return { x: 1, eps: next - sigma, prev: 0, ...x0 };
      const [c1, c2] =
        i > 0 ? ((r) => [1 + 1 / (2 * r), -1 / (2 * r)])((Math.log(sigmas[i - 1]!) - Math.log(sigma)) / (Math.log(sigma) - Math.log(next))) : [1, 0];
      if (name === 'dpmpp2m_sde') {
        // DPM-Solver++(2M) SDE (midpoint), diffusers' sde-dpmsolver++ in σ-space: with q = σ_next/σ and E = 1 − q²,
        // x_next = q²·x + E·D + σ_next·√E·z, D as in the 2M rule below
        const q2 = (next / sigma) ** 2;
        const e = 1 - q2;
        return { x: q2 + e * c1, eps: -e * c1 * sigma, prev: e * c2, ...x0, noise: next * Math.sqrt(e) };
      }
      // DPM-Solver++(2M): D = (1 + 1/2r)·x̂0 − (1/2r)·x̂0_prev (first order, D = x̂0, at the first step);
      // x_next = (σ_next/σ)·x − expm1(−h)·D
      const h = -Math.log(next) + Math.log(sigma);
      const ratio = next / sigma;
      const coeff = Math.expm1(-h);
      return { x: ratio - coeff * c1, eps: coeff * c1 * sigma, prev: -coeff * c2, ...x0 };
    },
  };
}

/** Euler's "linspace": 999 … 0 in `steps` even (fractional) steps. */
const eulerTimesteps = (steps: number) => Array.from({ length: steps }, (_, i) => ((TRAIN_TIMESTEPS - 1) * (steps - 1 - i)) / Math.max(1, steps - 1));

/** DPM-Solver++'s "linspace": steps + 1 points from 0 to 999, rounded, the 0 dropped (3 steps: 999, 666, 333). */
const dpmTimesteps = (steps: number) => Array.from({ length: steps }, (_, i) => Math.round(((TRAIN_TIMESTEPS - 1) * (steps - i)) / steps));

/** Karras et al. (2022) eq. 5: σ from σ_max to σ_min, evenly spaced in σ^(1/ρ), ρ = 7. */
function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number, rho = 7): number[] {
  const [lo, hi] = [sigmaMin ** (1 / rho), sigmaMax ** (1 / rho)];
  return Array.from({ length: steps }, (_, i) => (hi + (steps === 1 ? 0 : i / (steps - 1)) * (lo - hi)) ** rho);
}

/** The fractional timestep whose σ is `sigma`, interpolating log σ between the trained timesteps. */
function timestepOf(sigma: number, trained: readonly number[]): number {
  const log = Math.log(sigma);
  let low = 0;
  for (let i = 0; i < trained.length - 1; i++) if (Math.log(trained[i]!) <= log) low = i;
  const [a, b] = [Math.log(trained[low]!), Math.log(trained[low + 1]!)];
  const w = Math.min(1, Math.max(0, (a - log) / (a - b)));
  return (1 - w) * low + w * (low + 1);
}

/** Classifier-free guidance: ε = ε_uncond + g·(ε_cond − ε_uncond). */
export function guide(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  return uncond.map((u, i) => u + scale * (cond[i]! - u));
}
