// Which layers a LoRA can adapt, by their full names, for a UNet and text encoder configuration: the graph
// is built once with an adapter that only records what it is asked for, so the list is the models' own (no
// second list of layer names to keep in step). SingleInsert trains the attention projections among them.
import { Graph } from '../graph/graph.js';
import { type ClipTextConfig, clipTextEncoder } from './clip-text.js';
import { ATTENTION_PROJECTION, type LoraAdapter } from './lora.js';
import type { ParamFactory } from './params.js';
import { unet, type UNetConfig } from './unet.js';

export interface AdaptedLayer {
  /** The full name: unet.down_blocks.0.….attn1.to_q, text_model.encoder.layers.0.self_attn.q_proj. */
  module: string;
  inDim: number;
  outDim: number;
  /** 0 for a linear layer, k for a k×k convolution. */
  kernel: number;
}

/** The layers SingleInsert's Stage II adapts: the attention projections of the UNet and the text encoder. */
export const adaptedLayers = (unetConfig: UNetConfig, textConfig: ClipTextConfig): AdaptedLayer[] =>
  adaptableLayers(unetConfig, textConfig).filter((l) => ATTENTION_PROJECTION.test(l.module));

/** Every linear and convolutional layer of the UNet and the text encoder (what kohya, LyCORIS and PEFT LoRAs adapt). */
export function adaptableLayers(unetConfig: UNetConfig, textConfig: ClipTextConfig): AdaptedLayer[] {
  const layers = new Map<string, AdaptedLayer>();
  const zeros = (graph: Graph, shape: number[]) => graph.constant('float32', shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0));
  const recorder: LoraAdapter = {
    label: 'recorder',
    scale: 1,
    targets: () => true,
    weights: (graph, module, inDim, outDim, kernel = 0) => {
      layers.set(module, { module, inDim, outDim, kernel });
      return kernel
        ? { down: zeros(graph, [1, inDim, kernel, kernel]), up: zeros(graph, [outDim, 1, 1, 1]) }
        : { down: zeros(graph, [1, inDim]), up: zeros(graph, [outDim, 1]) };
    },
  };
  const g = new Graph('layers');
  // names and shapes only: every weight is a reference to nothing, never allocated or read
  const shapes: ParamFactory = {
    weight: (name, shape) => g.weight(name, 'float32', shape, { file: '', offset: 0, length: 4 * shape.reduce((a, b) => a * b, 1) }),
    adapters: [recorder],
  };
  clipTextEncoder(shapes, textConfig, { inputIds: g.input('ids', 'int64', [1, 77]) });
  const side = 2 ** (unetConfig.blockOutChannels.length - 1);
  unet(shapes, unetConfig, {
    sample: g.input('x', 'float32', [1, unetConfig.inChannels, side, side]),
    timestep: g.input('t', 'float32', [1]),
    encoderHiddenStates: g.input('c', 'float32', [1, 77, unetConfig.crossAttentionDim]),
  });
  return [...layers.values()];
}
