// A concept file as a learned one looks (a token and a rank-4 LoRA on every attention projection of
// the UNet and the text encoder), with seeded random values: composition tests need concepts that
// change the image, not ones that were trained.
import { SeededRandom } from '../../src-main/graph/random.js';
import { adaptedLayers } from '../../src-main/models/lora-modules.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';

/** A ~ N(0, 1/in) as a trained LoRA's; B ~ N(0, loraScale²), large enough to change the image, small enough to keep activations sane. */
export function writeRandomConcept(path: string, seed: number, classWord: string, loraScale = 0.2): string {
  const r = new SeededRandom(seed);
  const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { module, inDim, outDim } of adaptedLayers(TINY_UNET, TINY_CLIP_TEXT)) {
    lora[`${module}.lora_A.weight`] = { shape: [4, inDim], data: r.normalArray(4 * inDim).map((v) => v / Math.sqrt(inDim)) };
    lora[`${module}.lora_B.weight`] = { shape: [outDim, 4], data: r.normalArray(outDim * 4).map((v) => v * loraScale) };
  }
  writeConceptFile(path, r.normalArray(TINY_CLIP_TEXT.hiddenSize), lora, { classWord, baseModel: 'tiny', loraRank: 4 });
  return path;
}
