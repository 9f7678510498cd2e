// Stage I (inversion): the image encoder alone learns to map the photo to the token `*` so that the
// frozen SD draws the subject under the mask (L_fg) and leaves the rest to the class prompt (γ·L_bg).
import type { TrainingStage } from './stage.js';

export const STAGE_ONE: TrainingStage = {
  stage: 1,
  title: 'Stage I',
  steps: (s) => s.steps1,
  lr: (s) => s.lr1,
  stepOptions: (s) => ({ stage: 1, trainVision: true, gamma: s.gamma }),
};
