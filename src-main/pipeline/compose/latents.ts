// The starting noise: image i of a batch from seed + i, so any image can be drawn again alone.
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
