import { describe, expect, it } from 'vitest';
import { formatLoss } from '../../../src-renderer/src/lib/format-loss.js';

describe("the loss chart's numbers", () => {
  it('plain down to 0.001, powers of ten below, a dash for a missing term, 0 for zero', () => {
    expect([1, 10, 0.1, 0.01, 0.001].map(formatLoss)).toEqual(['1', '10', '0.1', '0.01', '0.001']);
    expect([1e-4, 1e-5, 1e-6].map(formatLoss)).toEqual(['1e-4', '1e-5', '1e-6']);
    expect(formatLoss(2.5e-5)).toBe('2.5e-5');
    expect(formatLoss(0.302215)).toBe('0.3022');
    expect([null, undefined, NaN].map(formatLoss)).toEqual(['—', '—', '—']);
    expect(formatLoss(0)).toBe('0');
  });
});
