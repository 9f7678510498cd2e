import type { LearnSettings } from '../../../src-preload/contract/training.js';
import type { StepOptions } from '../invert/training-step.js';

/** One stage of learning: how many steps, at which learning rate, and what its step trains. */
export interface TrainingStage {
  readonly stage: 1 | 2;
  readonly title: string;
  steps(settings: LearnSettings): number;
  lr(settings: LearnSettings): number;
  stepOptions(settings: LearnSettings): StepOptions;
}
