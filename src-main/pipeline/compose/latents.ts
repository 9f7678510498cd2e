// The starting noise, and an ancestral sampler's fresh noise at each step: image i of a batch from seed + i
// alone (its own streams), so any image can be drawn again by itself.
import { SeededRandom } from '../../graph/random.js';

export function initialLatents(seed: number, count: number, perImage: number, sigma: number): Float32Array {
  const latents = new Float32Array(count * perImage);
  for (let i = 0; i < count; i++)
    latents.set(
      new SeededRandom(seed + i).normalArray(perImage).map((v) => v * sigma),
      i * perImage,
    );
  return latents;
}

/** Where an image's step noise stream starts, apart from its starting noise's (both from its seed). */
const STEP_NOISE_STREAM = 0x5e_ed_57;

/** Step noise for a batch: each call (one per step, in order) gives every image its next `perImage` normals. */
export function stepNoise(seed: number, count: number, perImage: number): () => Float32Array {
  const streams = Array.from({ length: count }, (_, i) => new SeededRandom(((seed + i) ^ STEP_NOISE_STREAM) >>> 0));
  return () => {
    const out = new Float32Array(count * perImage);
    streams.forEach((r, i) => out.set(r.normalArray(perImage), i * perImage));
    return out;
  };
}
