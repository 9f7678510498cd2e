// Stage I (inversion): the image encoder learns to map the photo to one token `*` such that
// the frozen SD reproduces the subject under the mask and leaves the background to the class prompt.
import type { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import { clipTextEncoder, type ClipTextConfig } from '../../models/clip-text.js';
import { sharedWeights, trainableFrom, weightsFrom, type WeightSource } from '../../models/params.js';
import { unet, type UNetConfig } from '../../models/unet.js';
import { imageEncoder, type VisionConfig } from '../../models/vision.js';
import type { TrainableModel } from '../../graph/runtime/trainer.js';
import { maskedMse, predictedX0 } from './singleinsert-loss.js';

export interface Stage1Models {
  unet: { config: UNetConfig; source: WeightSource };
  textEncoder: { config: ClipTextConfig; source: WeightSource };
  vision: { config: VisionConfig; source: WeightSource };
  /** The projection to the token embedding; SingleInsert trains it from this start. */
  mapper: WeightSource;
}

export interface Stage1Shape {
  batch: number;
  /** Latent height and width (photo size / 8 for SD). */
  latent: [number, number];
}

/** Names of the step graph's per-step inputs, fed by Stage1Feeds. */
export const STAGE1_INPUTS = ['x0', 'mask', 'noise', 'timestep', 'sqrt_alpha_bar', 'sqrt_one_minus', 'pixels', 'ids_concept', 'ids_class', 'placeholder_mask'] as const;

/** Builds the Stage I loss over frozen SD and a trainable image encoder (ViT + mapper). */
export function buildStage1(g: Graph, models: Stage1Models, shape: Stage1Shape, options: { gamma?: number; trainVision?: boolean } = {}): TrainableModel {
  const { batch: b } = shape;
  const [h, w] = shape.latent;
  const s = models.vision.config.imageSize;
  const ch = models.unet.config.inChannels;
  const input = (name: (typeof STAGE1_INPUTS)[number], dims: number[], dtype: 'float32' | 'int64' = 'float32') => g.input(name, dtype, dims);
  const x0 = input('x0', [b, ch, h, w]);
  const mask = input('mask', [b, 1, h, w]);
  const noise = input('noise', [b, ch, h, w]);
  const timestep = input('timestep', [b]);
  const sa = input('sqrt_alpha_bar', [b, 1, 1, 1]);
  const s1 = input('sqrt_one_minus', [b, 1, 1, 1]);
  const pixels = input('pixels', [b, 3, s, s]);
  const idsConcept = input('ids_concept', [b, 77], 'int64');
  const idsClass = input('ids_class', [b, 77], 'int64');
  const placeholderMask = input('placeholder_mask', [b, 77, 1]);

  // 1. The photo → one token embedding `*`
  const mapper = trainableFrom(g, models.mapper);
  const vision = options.trainVision ? trainableFrom(g, models.vision.source) : weightsFrom(g, models.vision.source);
  const token = imageEncoder(vision, mapper, models.vision.config, pixels);

  // 2. Text: "* class" with the token in place, and "class" alone
  const text = sharedWeights(g, weightsFrom(g, models.textEncoder.source));
  const conceptText = clipTextEncoder(text, models.textEncoder.config, { inputIds: idsConcept, placeholders: { embeds: token, mask: placeholderMask } });
  const classText = clipTextEncoder(text, models.textEncoder.config, { inputIds: idsClass });

  // 3. The frozen UNet on both prompts, from the same noisy latents
  const xt = op.add(op.mul(sa, x0), op.mul(s1, noise));
  const u = sharedWeights(g, weightsFrom(g, models.unet.source, { prefix: 'unet.' }));
  const epsConcept = unet(u, models.unet.config, { sample: xt, timestep, encoderHiddenStates: conceptText });
  const epsClass = unet(u, models.unet.config, { sample: xt, timestep, encoderHiddenStates: classText });

  // 4. Losses on x̂0
  const x0Concept = predictedX0(xt, epsConcept, sa, s1);
  const x0Class = predictedX0(xt, epsClass, sa, s1);
  const lFg = maskedMse(x0Concept, x0, mask);
  const lBg = maskedMse(x0Concept, x0Class, op.sub(1, mask));
  const loss = op.add(lFg, op.mul(lBg, options.gamma ?? 1));
  const visionParams = 'params' in vision ? (vision as typeof mapper).params : [];
  const visionInit = 'initialValues' in vision ? (vision as typeof mapper).initialValues : {};
  return {
    loss,
    params: [...mapper.params, ...visionParams],
    outputs: { l_fg: lFg, l_bg: lBg, token },
    initialParams: { ...mapper.initialValues, ...visionInit },
  };
}
