// SD 1.x's noise schedule: scaled-linear β from 0.00085 to 0.012 over 1000 steps, ε-prediction.

export const TRAIN_TIMESTEPS = 1000;

export interface NoiseSchedule {
  betas: Float64Array;
  alphasCumprod: Float64Array;
}

export function scaledLinearSchedule(betaStart = 0.00085, betaEnd = 0.012, steps = TRAIN_TIMESTEPS): NoiseSchedule {
  const betas = new Float64Array(steps);
  const alphasCumprod = new Float64Array(steps);
  const a = Math.sqrt(betaStart);
  const b = Math.sqrt(betaEnd);
  let prod = 1;
  for (let i = 0; i < steps; i++) {
    const s = a + ((b - a) * i) / (steps - 1);
    betas[i] = s * s;
    prod *= 1 - betas[i]!;
    alphasCumprod[i] = prod;
  }
  return { betas, alphasCumprod };
}

/** x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε (training's forward process). */
export function addNoise(schedule: NoiseSchedule, x0: Float32Array, noise: Float32Array, t: number): Float32Array {
  const ab = schedule.alphasCumprod[t]!;
  const a = Math.sqrt(ab);
  const s = Math.sqrt(1 - ab);
  return x0.map((x, i) => a * x + s * noise[i]!);
}

/** x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, the prediction SingleInsert's losses compare. */
export function predictX0(schedule: NoiseSchedule, xt: Float32Array, eps: Float32Array, t: number): Float32Array {
  const ab = schedule.alphasCumprod[t]!;
  const a = Math.sqrt(ab);
  const s = Math.sqrt(1 - ab);
  return xt.map((x, i) => (x - s * eps[i]!) / a);
}
