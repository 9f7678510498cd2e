// SingleInsert's training step. Stage I (inversion): the image encoder learns to map the photo to
// one token `*` such that the frozen SD reproduces the subject under the mask and leaves the
// background to the class prompt. Stage II (finetune): LoRA on the UNet and text encoder trains
// with the encoder, and L_sm keeps the class prompt's meaning.
import type { FloatDType } from '../../graph/dtype.js';
import type { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/ir.js';
import * as op from '../../graph/ops/index.js';
import { clipTextEncoder, type ClipTextConfig } from '../../models/clip-text.js';
import { TrainableLora } from '../../models/lora.js';
import { sharedWeights, trainableFrom, weightsFrom, withAdapters, type WeightSource } from '../../models/params.js';
import { unet, type UNetConfig } from '../../models/unet.js';
import { imageEncoder, type VisionConfig } from '../../models/vision.js';
import type { TrainableModel } from '../../graph/runtime/trainer.js';
import { maskedMse, mse, predictedX0 } from './singleinsert-loss.js';

export interface SingleInsertModels {
  unet: { config: UNetConfig; source: WeightSource };
  textEncoder: { config: ClipTextConfig; source: WeightSource };
  vision: { config: VisionConfig; source: WeightSource };
  /** The projection to the token embedding; SingleInsert trains it from this start. */
  mapper: WeightSource;
}

export interface StepShape {
  batch: number;
  /** Latent height and width (photo size / 8 for SD). */
  latent: [number, number];
}

/** Names of the step graph's per-step inputs, fed by Stage1Feeds. */
export const STEP_INPUTS = [
  'x0',
  'mask',
  'noise',
  'timestep',
  'sqrt_alpha_bar',
  'sqrt_one_minus',
  'pixels',
  'ids_concept',
  'ids_class',
  'placeholder_mask',
] as const;

export interface StepOptions {
  /** 1: inversion (encoder only); 2: finetune (encoder + rank-r LoRA on UNet and text encoder, adds L_sm). */
  stage?: 1 | 2;
  gamma?: number;
  eta?: number;
  loraRank?: number;
  /** Train the ViT too, not only the projection (the paper trains the whole encoder). */
  trainVision?: boolean;
  /** Seed of the LoRA's random start (A ~ N(0, 1/rank), B = 0). */
  loraSeed?: number;
  /**
   * Stage II's target x̄0 for L_bg and L_sm: the frozen UNet on the class prompt as the LoRA text encoder
   * reads it ('lora-text', as SingleInsert's code does), or as the frozen text encoder reads it ('frozen').
   */
  classTarget?: 'lora-text' | 'frozen';
  /**
   * Type of the frozen SD weights and activations: float16 halves memory on GPUs. The trainable
   * encoder and LoRA stay float32 (master copies, optimizer state) and the losses are taken in float32.
   */
  dtype?: FloatDType;
}

/** The SingleInsert training step's loss over frozen SD and the trainable parts of its stage. */
export function buildSingleInsertStep(g: Graph, models: SingleInsertModels, shape: StepShape, options: StepOptions = {}): TrainableModel {
  const stage = options.stage ?? 1;
  const { batch: b } = shape;
  const [h, w] = shape.latent;
  const s = models.vision.config.imageSize;
  const ch = models.unet.config.inChannels;
  const input = (name: (typeof STEP_INPUTS)[number], dims: number[], dtype: 'float32' | 'int64' = 'float32') => g.input(name, dtype, dims);
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

  // 2. Frozen SD weights, shared by every use; in Stage II the concept's LoRA rides on them
  const dtype = options.dtype ?? 'float32';
  const lora = stage === 2 ? new TrainableLora(options.loraRank ?? 4, 1, undefined, options.loraSeed ?? 0) : null;
  const text = sharedWeights(g, weightsFrom(g, models.textEncoder.source, { dtype }));
  const u = sharedWeights(g, weightsFrom(g, models.unet.source, { prefix: 'unet.', dtype }));
  const adapted = <F extends typeof text>(f: F) => (lora ? withAdapters(f, [lora]) : f);
  // the UNet's ε̂ back in float32 for the losses
  const eps = (factory: typeof u, hidden: Tensor) =>
    op.cast(unet(factory, models.unet.config, { sample: op.cast(xt, dtype), timestep, encoderHiddenStates: hidden }), 'float32');

  // 3. "* class" (with the token in place) through the trained model; "class" through the frozen one
  const xt = op.add(op.mul(sa, x0), op.mul(s1, noise));
  const placeholders = { embeds: op.cast(token, dtype), mask: op.cast(placeholderMask, dtype) };
  const conceptText = clipTextEncoder(adapted(text), models.textEncoder.config, { inputIds: idsConcept, placeholders });
  const epsConcept = eps(adapted(u), conceptText);
  // the class prompt as Stage II's text encoder reads it (with its LoRA, unless the target is the fully frozen model)
  const classText = lora && options.classTarget !== 'frozen' ? clipTextEncoder(adapted(text), models.textEncoder.config, { inputIds: idsClass }) : null;
  const targetClassText = classText ?? clipTextEncoder(text, models.textEncoder.config, { inputIds: idsClass });
  const epsFrozenClass = eps(u, targetClassText);

  // 4. Losses on x̂0
  const x0Concept = predictedX0(xt, epsConcept, sa, s1);
  // the target x̄0 is a constant, as SingleInsert's code computes it under torch.no_grad(): in Stage II no
  // gradient reaches the text encoder's LoRA through it, and its UNet call needs no backward
  const x0FrozenClass = op.detach(predictedX0(xt, epsFrozenClass, sa, s1));
  const lFg = maskedMse(x0Concept, x0, mask);
  const lBg = maskedMse(x0Concept, x0FrozenClass, op.sub(1, mask));
  let loss = op.add(lFg, op.mul(lBg, options.gamma ?? 1));
  const outputs: Record<string, Tensor> = { l_fg: lFg, l_bg: lBg, token };
  if (lora) {
    // L_sm: the class prompt through the adapted model still means the class
    const epsClass = eps(adapted(u), classText ?? clipTextEncoder(adapted(text), models.textEncoder.config, { inputIds: idsClass }));
    const lSm = mse(predictedX0(xt, epsClass, sa, s1), x0FrozenClass);
    loss = op.add(loss, op.mul(lSm, options.eta ?? 1));
    outputs.l_sm = lSm;
  }
  const visionPart = 'params' in vision ? (vision as typeof mapper) : { params: [], initialValues: {} };
  return {
    loss,
    params: [...mapper.params, ...visionPart.params, ...(lora?.params ?? [])],
    outputs,
    initialParams: { ...mapper.initialValues, ...visionPart.initialValues, ...(lora?.initialValues ?? {}) },
  };
}
