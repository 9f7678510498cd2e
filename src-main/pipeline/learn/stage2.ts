// Stage II (finetune): rank-r LoRA on every UNet attention projection and on the text encoder trains
// with the encoder from Stage I; η·L_sm keeps the class prompt meaning the class.
import type { TrainingStage } from './stage.js';

export const STAGE_TWO: TrainingStage = {
  stage: 2,
  title: 'Stage II',
  steps: (s) => s.steps2,
  lr: (s) => s.lr2,
  stepOptions: (s) => ({ stage: 2, trainVision: true, gamma: s.gamma, eta: s.eta, loraRank: s.loraRank, loraSeed: s.seed, classTarget: s.stage2Target }),
};
