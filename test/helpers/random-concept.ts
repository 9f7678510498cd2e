// A concept file as a learned one looks (a token and a rank-4 LoRA on every attention projection of
// the UNet and the text encoder), with seeded random values: composition tests need concepts that
// change the image, not ones that were trained.
import { Graph } from '../../src-main/graph/graph.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { ATTENTION_PROJECTION, type LoraAdapter } from '../../src-main/models/lora.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { unet } from '../../src-main/models/unet.js';
import { writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { RandomSource } from '../../src-main/weights/sources.js';

/** Every adapted layer of the tiny models: its full name and its in/out sizes. */
function adaptedLayers(): Array<{ module: string; inDim: number; outDim: number }> {
  const layers = new Map<string, { module: string; inDim: number; outDim: number }>();
  const recorder: LoraAdapter = {
    label: 'recorder',
    scale: 1,
    targets: (module) => ATTENTION_PROJECTION.test(module),
    weights: (graph, module, inDim, outDim) => {
      layers.set(module, { module, inDim, outDim });
      return { down: graph.constant('float32', [4, inDim], new Array(4 * inDim).fill(0)), up: graph.constant('float32', [outDim, 4], new Array(4 * outDim).fill(0)) };
    },
  };
  const g = new Graph();
  const weights = new RandomSource(0);
  clipTextEncoder(weightsFrom(g, weights, { adapters: [recorder] }), TINY_CLIP_TEXT, { inputIds: g.input('ids', 'int64', [1, 77]) });
  unet(weightsFrom(g, weights, { prefix: 'unet.', adapters: [recorder] }), TINY_UNET, {
    sample: g.input('x', 'float32', [1, 4, 8, 8]),
    timestep: g.input('t', 'float32', [1]),
    encoderHiddenStates: g.input('c', 'float32', [1, 77, TINY_CLIP_TEXT.hiddenSize]),
  });
  return [...layers.values()];
}

/** A ~ N(0, 1/in) as a trained LoRA's; B ~ N(0, loraScale²), large enough to change the image, small enough to keep activations sane. */
export function writeRandomConcept(path: string, seed: number, classWord: string, loraScale = 0.2): string {
  const r = new SeededRandom(seed);
  const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { module, inDim, outDim } of adaptedLayers()) {
    lora[`${module}.lora_A.weight`] = { shape: [4, inDim], data: r.normalArray(4 * inDim).map((v) => v / Math.sqrt(inDim)) };
    lora[`${module}.lora_B.weight`] = { shape: [outDim, 4], data: r.normalArray(outDim * 4).map((v) => v * loraScale) };
  }
  writeConceptFile(path, r.normalArray(TINY_CLIP_TEXT.hiddenSize), lora, { classWord, baseModel: 'tiny', loraRank: 4 });
  return path;
}
