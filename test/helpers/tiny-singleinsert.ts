// The tiny SD-architecture models and one synthetic photo example the SingleInsert step tests share.
import { SeededRandom } from '../../src-main/graph/random.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import type { VisionConfig } from '../../src-main/models/vision.js';
import type { ConceptExample } from '../../src-main/pipeline/invert/step-feeds.js';
import type { SingleInsertModels } from '../../src-main/pipeline/invert/training-step.js';
import { ClipTokenizer } from '../../src-main/tokenizer/clip-tokenizer.js';
import { BUNDLED_MERGES } from '../../src-main/weights/sd-model.js';
import { RandomSource } from '../../src-main/weights/sources.js';

export const TINY_VISION: VisionConfig = {
  imageSize: 32,
  patchSize: 8,
  hiddenSize: 48,
  intermediateSize: 96,
  layers: 1,
  heads: 12,
  eps: 1e-5,
  tokenDim: TINY_CLIP_TEXT.hiddenSize,
};

export const tinySingleInsertModels: SingleInsertModels = {
  unet: { config: TINY_UNET, source: new RandomSource(1) },
  textEncoder: { config: TINY_CLIP_TEXT, source: new RandomSource(2) },
  vision: { config: TINY_VISION, source: new RandomSource(3) },
  mapper: new RandomSource(4),
};

/** A random 8×8-latent "photo" with a 4×4 square mask and the "* dog" / "dog" prompts. */
export function tinyExample(): ConceptExample {
  const r = new SeededRandom(5);
  const tok = ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  const concept = tok.encode('* dog', ['*']);
  const mask = new Float32Array(64);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) mask[y * 8 + x] = 1;
  return {
    x0: r.normalArray(4 * 64),
    mask,
    pixels: r.normalArray(3 * 32 * 32),
    idsConcept: concept.ids,
    idsClass: tok.encode('dog').ids,
    placeholderPosition: concept.placeholders[0]!.position,
  };
}
