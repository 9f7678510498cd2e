import { describe, expect, it } from 'vitest';
import { describeSettingIssue, learnSettings, type LearnSettingsInput } from '../../../src-preload/contract/training.js';

const first = (input: LearnSettingsInput) => {
  const r = learnSettings.safeParse(input);
  if (r.success) throw new Error('expected a complaint');
  return describeSettingIssue(r.error.issues[0]!);
};

describe('settings complaints in plain words', () => {
  it('name the field as the form does and say what is allowed', () => {
    expect(first({ steps1: 99999 })).toEqual({ field: 'steps1', message: 'Stage I steps must be at most 10000.' });
    expect(first({ batch: 0 })).toEqual({ field: 'batch', message: 'Batch must be at least 1.' });
    expect(first({ lr1: 0 })).toEqual({ field: 'lr1', message: 'Stage I lr must be more than 0.' });
    expect(first({ latentSize: 12.5 })).toEqual({ field: 'latentSize', message: 'Latent size must be a whole number.' });
    expect(first({ steps2: null as unknown as number })).toEqual({ field: 'steps2', message: 'Stage II steps must be a number.' });
    expect(first({ previewPrompts: ['a photo of * dog', ''] }).message).toBe('Test prompt 2 must not be empty.');
  });
});
