import type { SeededRandom } from '../../graph/random.js';
import type { HostTensor } from '../../graph/runtime/session.js';
import { type NoiseSchedule, TRAIN_TIMESTEPS } from '../../schedulers/ddpm-schedule.js';
import type { StepShape } from './training-step.js';

/** One photo's fixed inputs: its latents, its mask at latent size, its CLIP pixels, and the two prompts. */
export interface ConceptExample {
  /** VAE latents of the photo [C, h, w] (already × scaling factor): the posterior's mean. */
  x0: Float32Array;
  /** The posterior's standard deviation: when given, each step draws its latents x0 + std·ε (as SingleInsert's code samples them). */
  x0Std?: Float32Array;
  /** Foreground mask resized to [h, w], soft values in 0…1. */
  mask: Float32Array;
  /** CLIP-normalised photo [3, S, S]. */
  pixels: Float32Array;
  /** Ids of "* class" and of "class", 77 each, and where `*` sits. */
  idsConcept: number[];
  idsClass: number[];
  placeholderPosition: number;
}

const repeat = (data: Float32Array, times: number) => {
  const out = new Float32Array(data.length * times);
  for (let i = 0; i < times; i++) out.set(data, i * data.length);
  return out;
};

/**
 * The inputs of one training step: the same photo `batch` times, each with its own
 * timestep t ~ U[0, 1000) and noise ε ~ N(0, I) drawn from `rng` (so runs are reproducible).
 */
export function stepFeeds(example: ConceptExample, shape: StepShape, rng: SeededRandom, schedule: NoiseSchedule): Record<string, HostTensor> {
  const b = shape.batch;
  const [h, w] = shape.latent;
  const channels = example.x0.length / (h * w);
  const s = Math.round(Math.sqrt(example.pixels.length / 3));
  const t = Array.from({ length: b }, () => rng.int(0, TRAIN_TIMESTEPS));
  const f32 = (dims: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape: dims, data });
  const i64 = (ids: number[]): HostTensor => ({
    dtype: 'int64',
    shape: [b, 77],
    data: BigInt64Array.from(
      Array.from({ length: b }, () => ids)
        .flat()
        .map(BigInt),
    ),
  });
  const placeholder = new Float32Array(b * 77);
  for (let i = 0; i < b; i++) placeholder[i * 77 + example.placeholderPosition] = 1;
  const latents = repeat(example.x0, b);
  if (example.x0Std) {
    const std = example.x0Std;
    for (let i = 0; i < latents.length; i++) latents[i]! += std[i % std.length]! * rng.normal();
  }
  return {
    x0: f32([b, channels, h, w], latents),
    mask: f32([b, 1, h, w], repeat(example.mask, b)),
    noise: f32([b, channels, h, w], rng.normalArray(b * channels * h * w)),
    timestep: f32([b], Float32Array.from(t)),
    sqrt_alpha_bar: f32(
      [b, 1, 1, 1],
      Float32Array.from(t, (ti) => Math.sqrt(schedule.alphasCumprod[ti]!)),
    ),
    sqrt_one_minus: f32(
      [b, 1, 1, 1],
      Float32Array.from(t, (ti) => Math.sqrt(1 - schedule.alphasCumprod[ti]!)),
    ),
    pixels: f32([b, 3, s, s], repeat(example.pixels, b)),
    ids_concept: i64(example.idsConcept),
    ids_class: i64(example.idsClass),
    placeholder_mask: f32([b, 77, 1], placeholder),
  };
}
