// A concept file as a learned one looks (a token and a rank-4 LoRA on every attention projection of
// the UNet and the text encoder), with seeded random values: composition tests need concepts that
// change the image, not ones that were trained. And a LoRA file as another tool writes one.
import { SeededRandom } from '../../src-main/graph/random.js';
import { SD15_CLIP_TEXT } from '../../src-main/models/clip-text.js';
import { adaptableLayers, adaptedLayers } from '../../src-main/models/lora-modules.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { SD15_UNET } from '../../src-main/models/unet.js';
import { writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { kohyaName } from '../../src-main/pipeline/interop/lora-naming.js';
import { type TensorToWrite, writeSafetensors } from '../../src-main/weights/safetensors.js';

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

/** A LoRA file as kohya's scripts write one for SD 1.5 (rank 4, seeded random values), on its first `layers` adapted layers (all by default). */
export function writeKohyaLora(path: string, seed: number, layers?: number): string {
  const r = new SeededRandom(seed);
  const tensors: Record<string, TensorToWrite> = {};
  for (const { module, inDim, outDim } of adaptedLayers(SD15_UNET, SD15_CLIP_TEXT).slice(0, layers)) {
    tensors[`${kohyaName(module)}.lora_down.weight`] = { dtype: 'F32', shape: [4, inDim], data: r.normalArray(4 * inDim) };
    tensors[`${kohyaName(module)}.lora_up.weight`] = { dtype: 'F32', shape: [outDim, 4], data: r.normalArray(4 * outDim) };
  }
  writeSafetensors(path, tensors);
  return path;
}

/** A LoRA over every linear and convolutional layer of the tiny pipeline (as LCM-LoRA covers SD 1.5), kohya-named, rank 4. */
export function writeTinyFullLora(path: string, seed: number, scale = 0.05): string {
  const r = new SeededRandom(seed);
  const tensors: Record<string, TensorToWrite> = {};
  for (const { module, inDim, outDim, kernel } of adaptableLayers(TINY_UNET, TINY_CLIP_TEXT)) {
    const k = Math.max(kernel, 1);
    const down = kernel ? [4, inDim, k, k] : [4, inDim];
    const up = kernel ? [outDim, 4, 1, 1] : [outDim, 4];
    tensors[`${kohyaName(module)}.lora_down.weight`] = {
      dtype: 'F32',
      shape: down,
      data: r.normalArray(4 * inDim * k * k).map((v) => v / Math.sqrt(inDim * k * k)),
    };
    tensors[`${kohyaName(module)}.lora_up.weight`] = { dtype: 'F32', shape: up, data: r.normalArray(outDim * 4).map((v) => v * scale) };
  }
  writeSafetensors(path, tensors);
  return path;
}
