// The Compose form's messages: the schema's complaints in plain words, each naming the field as the form labels it.
import { describe, expect, it } from 'vitest';
import { composition, describeCompositionIssue } from '../../../src-preload/contract/index.js';

const said = (input: object) => {
  const parsed = composition.safeParse({ prompt: 'a * dog', ...input });
  if (parsed.success) return null;
  return describeCompositionIssue(parsed.error.issues[0]!);
};

describe('describeCompositionIssue', () => {
  it('names the field and says the bound in words', () => {
    expect(said({ steps: 99999 })).toEqual({ field: 'steps', message: 'Steps must be at most 1000.' });
    expect(said({ guidance: -1 })).toEqual({ field: 'guidance', message: 'Guidance must be at least 0.' });
    expect(said({ count: 2.5 })).toEqual({ field: 'count', message: 'Images must be a whole number.' });
    expect(said({ steps: 'ten' })).toEqual({ field: 'steps', message: 'Steps must be a number.' });
    expect(said({ prompt: 'x'.repeat(2001) })).toEqual({ field: 'prompt', message: 'The prompt is too long (at most 2000 characters).' });
    expect(said({ width: 100 })).toEqual({ field: 'width', message: 'Width: sizes are multiples of 8 (64 for SD 1.x).' });
    expect(said({ sampler: 'euler_a', karras: true })).toEqual({
      field: 'karras',
      message: 'Karras sigmas: only Euler, DPM++ 2M, DPM++ 2M SDE, DPM++ SDE, UniPC take Karras sigmas, not Euler a.',
    });
    expect(said({ steps: 30 })).toBeNull();
  });
});
