import { FEW_STEP_MAX, KARRAS_SAMPLERS, karrasRefusal, type SamplerName, STOCHASTIC_SAMPLERS, stepsRefusal } from '../../src-preload/contract/compose.js';
import { type NoiseSchedule, scaledLinearSchedule, TRAIN_TIMESTEPS } from './ddpm-schedule.js';

export type { SamplerName };

/**
 * One step of a sampler as numbers: every sampler here is linear in x, the guided ε̂, the last two steps'
 * x̂0, the last step's corrected x (UniPC) and fresh standard-normal noise z (ancestral and SDE samplers), so
 * one rule serves the host loop and the device graph (compose/sampler-step.ts):
 *   x_next = x·x + eps·ε̂ + prev·x̂0_prev + prev2·x̂0_prev2 + last·x_last + noise·z,
 *   this step's x̂0 = x0x·x + x0eps·ε̂ (the next step's x̂0_prev), and, for a corrector, this step's corrected
 *   x = corrected·(x, ε̂, x̂0_prev, x̂0_prev2, x_last) (the next step's x_last).
 */
export interface StepCoefficients {
  x: number;
  eps: number;
  prev: number;
  x0x: number;
  x0eps: number;
  /** The weight of the step's noise z (0 for the deterministic samplers). */
  noise: number;
  /**
   * How z is made of a fresh standard normal n and the last step's z: z = √(1−c²)·n + c·z_prev, c = `noiseCarry`
   * (0 by default: fresh). DPM++ SDE's two half-steps share one Brownian path, so its second z carries the first.
   */
  noiseCarry?: number;
  /** Multistep predictor-corrector samplers (UniPC) only: the x̂0 before last, and the last step's corrected x. */
  prev2?: number;
  last?: number;
  corrected?: Readonly<{ x: number; eps: number; prev: number; prev2: number; last: number }>;
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
  /** Whether it corrects each x after the UNet has seen it (UniPC): the step then keeps two x̂0 and the corrected x. */
  readonly corrector: boolean;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma: number;
  /**
   * Where x stands before UNet call i, as x = signal·x0 + noise·ε (i = timesteps.length: after the last step, x0
   * itself): img2img starts from an image's latents noised to call 0's level, inpainting puts the kept part back
   * at each call's.
   */
  noiseLevel(i: number): { signal: number; noise: number };
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
  /**
   * img2img: how much of the schedule runs (0 < strength ≤ 1), as diffusers' img2img pipelines cut it: of n steps
   * the last ⌊n·strength⌋, the multistep samplers starting their history afresh there.
   */
  strength?: number;
}

type SamplerRule = Pick<Sampler, 'name' | 'timesteps' | 'initNoiseSigma' | 'inputScale' | 'coefficients' | 'noiseLevel'>;

/** The first step an img2img of `strength` runs (0 for 1); throws when no step would run. */
export function firstStep(steps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`strength must be more than 0 and at most 1, got ${strength}`);
  const run = Math.min(Math.floor(steps * strength), steps);
  if (run === 0) throw new RangeError(`strength ${strength} runs no step of ${steps}: raise the strength or the steps (at least 1/${steps})`);
  return steps - run;
}

export function createSampler(name: SamplerName, steps: number, schedule: NoiseSchedule = scaledLinearSchedule(), options: SamplerOptions = {}): Sampler {
  if (!Number.isInteger(steps) || steps < 1 || steps > TRAIN_TIMESTEPS) throw new RangeError(`steps must be 1…${TRAIN_TIMESTEPS}, got ${steps}`);
  if (options.karras && !KARRAS_SAMPLERS.includes(name)) throw new RangeError(`Karras sigmas: ${karrasRefusal(name)}`);
  const tooMany = stepsRefusal(name, steps);
  if (tooMany) throw new RangeError(tooMany);
  const begin = firstStep(steps, options.strength ?? 1);
  const karras = options.karras === true;
  const rule = ((): SamplerRule => {
    switch (name) {
      case 'ddim':
        return ddim(steps, schedule);
      case 'euler':
      case 'euler_a':
      case 'dpmpp2m':
      case 'dpmpp2m_sde':
        return sigmaSampler(name, steps, schedule, karras, begin);
      case 'unipc':
        return unipc(steps, schedule, karras, begin);
      case 'dpmpp_sde':
        return dpmppSde(steps, schedule, karras);
      case 'lcm':
      case 'tcd':
        return consistency(name, steps, schedule);
    }
  })();
  // DPM++ SDE makes two UNet calls a step
  return onHost(begin ? from(rule, name === 'dpmpp_sde' ? 2 * begin : begin) : rule);
}

/** The rule's calls from `call` on (img2img): call `call` becomes call 0. */
function from(rule: SamplerRule, call: number): SamplerRule {
  return {
    ...rule,
    timesteps: rule.timesteps.slice(call),
    inputScale: (i) => rule.inputScale(i + call),
    coefficients: (i) => rule.coefficients(i + call),
    noiseLevel: (i) => rule.noiseLevel(i + call),
  };
}

/** x = √ᾱ_t·x0 + √(1−ᾱ_t)·ε at the rule's timesteps (the variance-preserving samplers), x0 after the last. */
const vpLevel =
  (timesteps: readonly number[], { alphasCumprod }: NoiseSchedule) =>
  (i: number) => {
    if (i >= timesteps.length) return { signal: 1, noise: 0 };
    const a = alphasCumprod[timesteps[i]!]!;
    return { signal: Math.sqrt(a), noise: Math.sqrt(1 - a) };
  };

/** x = x0 + σ·ε (the σ-space samplers; the last σ is 0). */
const sigmaLevel = (sigmaOf: (i: number) => number) => (i: number) => ({ signal: 1, noise: sigmaOf(i) });

/** The rule's host loop: x·scale in, and each step from its coefficients, keeping x̂0 for the next. */
function onHost(rule: SamplerRule): Sampler {
  let previousX0: Float32Array | null = null;
  let previous2X0: Float32Array | null = null;
  let last: Float32Array | null = null;
  let lastNoise: Float32Array | null = null;
  return {
    ...rule,
    stochastic: STOCHASTIC_SAMPLERS.includes(rule.name),
    corrector: rule.name === 'unipc' || rule.name === 'dpmpp_sde',
    scaleModelInput: (x, i) => {
      const c = rule.inputScale(i);
      return x.map((v) => v * c);
    },
    step: (eps, i, x, fresh) => {
      const k = rule.coefficients(i);
      if (k.noise && fresh?.length !== x.length) throw new RangeError(`${rule.name} step ${i} needs ${x.length} values of fresh noise`);
      const noise = fresh ? stepNoiseOf(k, fresh, lastNoise) : undefined;
      lastNoise = noise ?? null;
      const [prev, prev2, lastX] = [previousX0, previous2X0, last];
      const at = (v: Float32Array | null, j: number) => (v ? v[j]! : 0);
      const c = k.corrected;
      if (c) last = x.map((xi, j) => c.x * xi + c.eps * eps[j]! + c.prev * at(prev, j) + c.prev2 * at(prev2, j) + c.last * at(lastX, j));
      previous2X0 = prev;
      previousX0 = x.map((xi, j) => k.x0x * xi + k.x0eps * eps[j]!);
      return x.map(
        (xi, j) =>
          k.x * xi +
          k.eps * eps[j]! +
          (k.prev ? k.prev * at(prev, j) : 0) +
          (k.prev2 ? k.prev2 * at(prev2, j) : 0) +
          (k.last ? k.last * at(lastX, j) : 0) +
          (k.noise ? k.noise * noise![j]! : 0),
      );
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
    noiseLevel: vpLevel(timesteps, { alphasCumprod } as NoiseSchedule),
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

/** TCD's γ (diffusers' eta, 0.3 by default): how much of each step is fresh noise (0: deterministic, 1: as LCM). */
export const TCD_GAMMA = 0.3;

/**
 * The consistency model's boundary condition at a timestep (LCM's c_skip and c_out, σ_data = 0.5, the timestep scaled
 * by 10 as diffusers does): at t = 0 the model returns x itself; from t = 19 on, c_skip < 10⁻⁵.
 */
export function lcmBoundary(t: number): { cSkip: number; cOut: number } {
  const scaled = t * 10;
  return { cSkip: 0.25 / (scaled ** 2 + 0.25), cOut: scaled / Math.sqrt(scaled ** 2 + 0.25) };
}

/**
 * LCM (Luo et al. 2023) and TCD (Zheng et al. 2024), as diffusers' LCMScheduler and TCDScheduler: timesteps evenly
 * spaced by index over the distillation schedule 19, 39, …, 999 (999, 759, 499, 259 for 4 steps), x kept
 * variance-preserving. LCM jumps to the consistency model's x̂0 (c_skip·x + c_out·x̂0, the boundary condition at
 * timestep·10) and noises it back to the next timestep; TCD goes to an earlier point s = ⌊(1−γ)·t_next⌋ along the
 * DDIM path, then noises from s to t_next. The last step adds no noise; TCD's ends at s = 0 (ᾱ_0, not 1).
 */
function consistency(name: 'lcm' | 'tcd', steps: number, schedule: NoiseSchedule): SamplerRule {
  const { alphasCumprod } = schedule;
  const k = Math.floor(TRAIN_TIMESTEPS / FEW_STEP_MAX);
  const origin = Array.from({ length: FEW_STEP_MAX }, (_, i) => (FEW_STEP_MAX - i) * k - 1); // 999 … 19
  const timesteps = Array.from({ length: steps }, (_, i) => origin[Math.floor((i * FEW_STEP_MAX) / steps)]!);
  return {
    name,
    timesteps,
    initNoiseSigma: 1,
    inputScale: () => 1,
    noiseLevel: vpLevel(timesteps, schedule),
    coefficients: (i) => {
      const t = timesteps[i]!;
      const last = i === steps - 1;
      const at = alphasCumprod[t]!;
      const [sa, s1] = [Math.sqrt(at), Math.sqrt(1 - at)];
      // x̂0 = (x − √(1−ᾱ_t)·ε̂)/√ᾱ_t
      const x0 = { x0x: 1 / sa, x0eps: -s1 / sa };
      if (name === 'lcm') {
        const aNext = alphasCumprod[last ? t : timesteps[i + 1]!]!;
        const { cSkip, cOut } = lcmBoundary(t);
        // denoised = c_skip·x + c_out·x̂0; x_next = √ᾱ_next·denoised + √(1−ᾱ_next)·z (the last step: denoised)
        const [dx, deps] = [cSkip + cOut / sa, (-cOut * s1) / sa];
        const f = last ? 1 : Math.sqrt(aNext);
        return { x: f * dx, eps: f * deps, prev: 0, x0x: dx, x0eps: deps, noise: last ? 0 : Math.sqrt(1 - aNext) };
      }
      const tNext = last ? 0 : timesteps[i + 1]!;
      const as = alphasCumprod[Math.floor((1 - TCD_GAMMA) * tNext)]!;
      // x_s = √ᾱ_s·x̂0 + √(1−ᾱ_s)·ε̂; x_next = √(ᾱ_next/ᾱ_s)·x_s + √(1 − ᾱ_next/ᾱ_s)·z (the last step: x_s)
      const [sx, seps] = [Math.sqrt(as) / sa, Math.sqrt(1 - as) - (Math.sqrt(as) * s1) / sa];
      const ratio = last ? 1 : alphasCumprod[tNext]! / as;
      const f = Math.sqrt(ratio);
      return { x: f * sx, eps: f * seps, prev: 0, ...x0, noise: last ? 0 : Math.sqrt(1 - ratio) };
    },
  };
}

/**
 * Samplers in σ-space (x = x0 + σ·ε, σ = √((1−ᾱ)/ᾱ)) with "linspace" timesteps,
 * σ interpolated at fractional timesteps, as diffusers' Euler and DPM-Solver++ do.
 */
function sigmaSampler(name: Exclude<SamplerName, 'ddim'>, steps: number, schedule: NoiseSchedule, karras: boolean, begin: number): SamplerRule {
  const euler = name === 'euler' || name === 'euler_a';
  const { timesteps, sigmas } = sigmaSpacing(steps, schedule, { karras, spacing: euler ? 'euler' : 'dpm' });
  return {
    name,
    timesteps,
    // diffusers starts DPM-Solver++ from pure noise in its variance-preserving x, which is noise·√(σ²+1) here
    initNoiseSigma: euler ? sigmas[0]! : Math.sqrt(sigmas[0]! ** 2 + 1),
    inputScale: (i) => 1 / Math.sqrt(sigmas[i]! ** 2 + 1),
    noiseLevel: sigmaLevel((i) => sigmas[i]!),
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
        i > begin ? ((r) => [1 + 1 / (2 * r), -1 / (2 * r)])((Math.log(sigmas[i - 1]!) - Math.log(sigma)) / (Math.log(sigma) - Math.log(next))) : [1, 0];
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

/**
 * UniPC (Zhao et al. 2023) as diffusers has it for SD: order 2, x̂0 prediction, B(h) = e^h − 1 ("bh2"), lower order at
 * the ends, in σ-space. Each step first corrects the x the UNet just saw (UniC, with this x̂0), then predicts the next
 * (UniP) from the corrected x; x̂0 itself comes from the x before its correction, as diffusers computes it.
 */
function unipc(steps: number, schedule: NoiseSchedule, karras: boolean, begin: number): SamplerRule {
  const { timesteps, sigmas } = sigmaSpacing(steps, schedule, { karras, spacing: 'dpm' });
  const lambda = (i: number) => -Math.log(sigmas[i]!); // log α − log σ in VP terms
  // the predictor's order at step i: 1 first (no history; an img2img's first is `begin`), 1 last (lower_order_final), else 2
  const order = (i: number) => Math.min(2, steps - i, i - begin + 1);
  return {
    name: 'unipc',
    timesteps,
    initNoiseSigma: Math.sqrt(sigmas[0]! ** 2 + 1),
    inputScale: (i) => 1 / Math.sqrt(sigmas[i]! ** 2 + 1),
    noiseLevel: sigmaLevel((i) => sigmas[i]!),
    coefficients: (i) => {
      const sigma = sigmas[i]!;
      // 1. UniC: x_c = (σ_i/σ_{i−1})·x_last − E·m_prev − E·(ρ0·D1 + ρ1·(m − m_prev)), E = e^(−h) − 1, D1 = (m_prev2 − m_prev)/r
      //    (m = x − σ·ε̂ is this step's x̂0); the first step has nothing to correct
      let corrected = { x: 1, eps: 0, prev: 0, prev2: 0, last: 0 };
      if (i > begin) {
        const h = lambda(i) - lambda(i - 1);
        const e = Math.expm1(-h);
        let [rho0, rho1, r] = [0, 0.5, 1];
        if (order(i - 1) === 2) {
          r = (lambda(i - 2) - lambda(i - 1)) / h;
          // R·ρ = b with R = [[1, 1], [r, 1]], b_k from h·φ_k(h) / B(h)
          const hh = -h;
          const phi1 = Math.expm1(hh);
          const k1 = phi1 / hh - 1;
          const b1 = k1 / phi1;
          const b2 = ((k1 / hh - 1 / 2) * 2) / phi1;
          rho0 = (b1 - b2) / (1 - r);
          rho1 = b1 - rho0;
        }
        const m = -e * rho1; // on this step's x̂0
        corrected = {
          x: m,
          eps: -m * sigma,
          prev: -e + e * rho1 + (e * rho0) / r,
          prev2: (-e * rho0) / r,
          last: sigma / sigmas[i - 1]!,
        };
      }
      // 2. UniP: x_next = (σ_next/σ)·x_c − F·m − F·ρ_p·(m_prev − m)/r_p (order 2, ρ_p = ½), F = e^(−h) − 1
      const next = sigmas[i + 1]!;
      const x0 = { x0x: 1, x0eps: -sigma, noise: 0 };
      if (next === 0) return { x: 1, eps: -sigma, prev: 0, ...x0, prev2: 0, last: 0, corrected }; // x̂0 itself
      const h = Math.log(sigma) - Math.log(next);
      const f = Math.expm1(-h);
      const p = next / sigma;
      let [onM, onPrev] = [-f, 0];
      if (order(i) === 2) {
        const rp = (lambda(i - 1) - lambda(i)) / h;
        [onM, onPrev] = [-f + (0.5 * f) / rp, (-0.5 * f) / rp];
      }
      return {
        x: p * corrected.x + onM,
        eps: p * corrected.eps - onM * sigma,
        prev: p * corrected.prev + onPrev,
        prev2: p * corrected.prev2,
        last: p * corrected.last,
        ...x0,
        corrected,
      };
    },
  };
}

/**
 * The σ-space samplers' σ at each step (then 0) and the timestep the UNet is told, as diffusers spaces them:
 * "linspace" timesteps (Euler's fractional, DPM-Solver++'s and UniPC's rounded), σ interpolated at them, or
 * Karras σ with each one's (fractional or rounded) timestep.
 */
function sigmaSpacing(
  steps: number,
  { alphasCumprod }: NoiseSchedule,
  options: { karras: boolean; spacing: 'euler' | 'dpm' },
): { timesteps: number[]; sigmas: number[]; trained: number[] } {
  const trained = Array.from(alphasCumprod, (a) => Math.sqrt((1 - a) / a));
  const sigmaAt = (t: number) => {
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, TRAIN_TIMESTEPS - 1);
    return (1 - (t - lo)) * trained[lo]! + (t - lo) * trained[hi]!;
  };
  const euler = options.spacing === 'euler';
  const even = euler ? eulerTimesteps(steps) : dpmTimesteps(steps);
  const spaced = options.karras ? karrasSigmas(trained[0]!, trained[TRAIN_TIMESTEPS - 1]!, steps) : even.map(sigmaAt);
  const timesteps = options.karras ? spaced.map((sigma) => (euler ? timestepOf(sigma, trained) : Math.round(timestepOf(sigma, trained)))) : even;
  return { timesteps, sigmas: [...spaced, 0], trained };
}

/** Step i's noise z from a fresh normal and the last step's z (see `noiseCarry`): one rule for the host loop and denoise.ts. */
export function stepNoiseOf(k: StepCoefficients, fresh: Float32Array, previous: Float32Array | null): Float32Array {
  const c = k.noiseCarry ?? 0;
  if (!c || !previous) return fresh;
  const f = Math.sqrt(1 - c * c);
  return fresh.map((v, j) => f * v + c * previous[j]!);
}

/**
 * DPM++ SDE (DPM-Solver++ stochastic, second order, single step; A1111's "DPM++ SDE", diffusers'
 * DPMSolverSDEScheduler): each step is two UNet calls, at σ and at the geometric midpoint σ_m = √(σ·σ_next). The
 * first half goes to σ_m ancestrally; the second starts again from the step's x with the midpoint's x̂0, its noise
 * on the same Brownian path (z over σ→σ_next carries z over σ→σ_m). The last step is Euler's, to σ = 0.
 */
function dpmppSde(steps: number, schedule: NoiseSchedule, karras: boolean): SamplerRule {
  const { timesteps: baseT, sigmas, trained } = sigmaSpacing(steps, schedule, { karras, spacing: 'euler' });
  const mid = (j: number) => Math.sqrt(sigmas[j]! * sigmas[j + 1]!);
  // calls: σ_0, σ_m0, σ_1, σ_m1, …, σ_{n−1} (2n − 1 of them)
  const calls = Array.from({ length: 2 * steps - 1 }, (_, k) => (k % 2 === 0 ? { j: k / 2, half: 1 as const } : { j: (k - 1) / 2, half: 2 as const }));
  const sigmaOf = (k: number) => (calls[k]!.half === 1 ? sigmas[calls[k]!.j]! : mid(calls[k]!.j));
  /** Down and up of an ancestral move from σ to σ_to (σ_up at most σ_to, as diffusers clamps). */
  const split = (from: number, to: number) => {
    const up = Math.min(to, Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2));
    return { up, down: Math.sqrt(to ** 2 - up ** 2) };
  };
  return {
    name: 'dpmpp_sde',
    timesteps: calls.map(({ j, half }) => (half === 1 ? baseT[j]! : timestepOf(mid(j), trained))),
    initNoiseSigma: sigmas[0]!,
    inputScale: (k) => 1 / Math.sqrt(sigmaOf(k) ** 2 + 1),
    // the first call of a step sees x at σ, the second at the midpoint (where the first half left it); then 0
    noiseLevel: sigmaLevel((k) => (k >= calls.length ? 0 : sigmaOf(k))),
    coefficients: (k) => {
      const { j, half } = calls[k]!;
      const [sigma, next] = [sigmas[j]!, sigmas[j + 1]!];
      const here = sigmaOf(k);
      const x0 = { x0x: 1, x0eps: -here };
      const none = { prev: 0, prev2: 0, noise: 0 };
      if (next === 0) return { x: 1, eps: -sigma, ...none, last: 0, ...x0 }; // the last step: x̂0
      if (half === 1) {
        // to σ_m: x' = (σ_down/σ)·x − (σ_down/σ − 1)·x̂0 + σ_up·z, and this x kept for the second half
        const { up, down } = split(sigma, mid(j));
        return { x: 1, eps: down - sigma, ...none, last: 0, ...x0, noise: up, corrected: { x: 1, eps: 0, prev: 0, prev2: 0, last: 0 } };
      }
      // from the kept x to σ_next with the midpoint's x̂0: x_next = (σ_down/σ)·x_kept − (σ_down/σ − 1)·x̂0_m + σ_up·z
      const { up, down } = split(sigma, next);
      const e = down / sigma - 1;
      // the path's increment over σ→σ_next contains the one over σ→σ_m: z = √(Δ_m/Δ)·z_prev + √(1 − Δ_m/Δ)·n
      const carry = Math.sqrt((sigma - mid(j)) / (sigma - next));
      return {
        x: -e,
        eps: e * here,
        ...none,
        last: down / sigma,
        ...x0,
        noise: up,
        noiseCarry: carry,
        corrected: { x: 0, eps: 0, prev: 0, prev2: 0, last: 1 },
      };
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
