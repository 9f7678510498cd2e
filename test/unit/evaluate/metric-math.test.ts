// The report card's arithmetic with answers worked out by hand.
import { describe, expect, it } from 'vitest';
import { METRIC_KEYS, METRICS } from '../../../src-preload/contract/evaluations.js';
import {
  cosine,
  diversity,
  editSucceeded,
  IDENTITY_THRESHOLD,
  meanOf,
  pairs,
  paperValue,
  targetProbability,
  weaknesses,
} from '../../../src-main/pipeline/evaluate/metric-math.js';
import { promptsFor } from '../../../src-main/pipeline/evaluate/prompt-set.js';
import { reportCsv } from '../../../src-main/pipeline/evaluate/report-export.js';

describe('report card arithmetic', () => {
  it('cosine: (1,2,2)·(2,1,2) = 8 over 3·3; orthogonal 0; opposite −1; scale-free', () => {
    expect(cosine([1, 2, 2], [2, 1, 2])).toBeCloseTo(8 / 9, 15);
    expect(cosine([1, 0], [0, 3])).toBe(0);
    expect(cosine([1, -2], [-3, 6])).toBeCloseTo(-1, 15);
    expect(cosine([0.5, 1, 1], [20, 10, 20])).toBeCloseTo(8 / 9, 15);
    expect(() => cosine([1], [1, 2])).toThrow(/1 and 2 values/);
  });

  it('means skip what was not measured, and are null when nothing was', () => {
    expect(meanOf([0.2, null, 0.6])).toBeCloseTo(0.4, 15);
    expect(meanOf([null, null])).toBeNull();
  });

  it('DIV: each prompt’s mean pair distance, then their mean; a prompt with one image has no pair', () => {
    expect(pairs(3)).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(pairs(1)).toEqual([]);
    // prompt A: pairs 0.2, 0.4, 0.9 → 0.5; prompt B: 0.7 → 0.7; prompt C: one image → left out
    expect(diversity([[0.2, 0.4, 0.9], [0.7], []])).toBeCloseTo(0.6, 15);
  });

  it('the judge: zero-shot between target and absence at scale 100, and the identity kept', () => {
    const image = [1, 0];
    const target = [Math.cos(0.1), Math.sin(0.1)]; // cos 0.995
    const absence = [Math.cos(0.3), Math.sin(0.3)]; // cos 0.955
    // p = 1 / (1 + e^(100·(cos 0.3 − cos 0.1)))
    expect(targetProbability(image, target, absence)).toBeCloseTo(1 / (1 + Math.exp(100 * (Math.cos(0.3) - Math.cos(0.1)))), 12);
    expect(targetProbability(image, target, absence)).toBeGreaterThan(0.98);
    expect(editSucceeded(image, [target], absence, 0.8)).toBe(true);
    expect(editSucceeded(image, [target], absence, IDENTITY_THRESHOLD - 0.01)).toBe(false); // the subject was lost
    expect(editSucceeded(image, [target, absence.map((v) => -v)], absence, 0.8)).toBe(false); // one of two targets missing
    expect(editSucceeded(image, [absence], target, 0.9)).toBe(false);
  });

  it('calls out what is worse than the paper beyond its slack, in the direction that is worse', () => {
    expect(weaknesses({ clipIB: 0.78, clipIF: 0.83, clipT: 0.25, div: 0.9, esr: null }, 2)).toEqual([
      "background leaks: CLIP-I-b 0.78 vs the paper's 0.601",
      "edits are not followed: CLIP-T 0.25 vs the paper's 0.311",
    ]);
    expect(weaknesses({ clipIF: 0.7 }, 2)).toEqual(["the subject drifts from the photo: CLIP-I-f 0.70 vs the paper's 0.857"]);
    // at Stage I the paper reports ESR only
    expect(weaknesses({ clipIB: 0.9, esr: 0.5 }, 1)).toEqual(["few edits succeed: ESR 0.50 vs the paper's 0.845"]);
    expect(paperValue('esr', 1)).toBe(0.845);
    expect(paperValue('clipIF', 1)).toBeNull();
  });

  it('the paper’s Table 1 as the issue quotes it', () => {
    expect(Object.fromEntries(METRIC_KEYS.map((k) => [METRICS[k].label, METRICS[k].paper.stage2]))).toEqual({
      'CLIP-I-f': 0.857,
      'CLIP-I-b': 0.601,
      'DINO-f': 0.609,
      'DINO-b': 0.176,
      'CLIP-T': 0.311,
      DIV: 0.753,
      ESR: 0.825,
    });
  });
});

describe('the prompt file', () => {
  it('has at least 10 editing prompts per class word, each with one or two targets, and a generic list', () => {
    for (const word of ['face', 'dog', 'jacket', 'hair']) {
      const set = promptsFor(word);
      expect(set.list).toBe(word);
      expect(set.prompts.length).toBeGreaterThanOrEqual(10);
      for (const p of set.prompts) {
        expect(p.prompt).toMatch(new RegExp(`\\* ${word}\\b`));
        expect(p.plain).not.toContain('*');
        expect(p.targets.length).toBeGreaterThanOrEqual(1);
        expect(p.targets.length).toBeLessThanOrEqual(2);
      }
    }
    expect(promptsFor('face').prompts[0]).toEqual({
      prompt: '* face as a marble statue',
      plain: 'face as a marble statue',
      targets: ['a marble statue'],
      absence: 'a plain photo of a face',
    });
    const teapot = promptsFor('Teapot', 3);
    expect(teapot.list).toBe('*');
    expect(teapot.prompts.map((p) => p.prompt)).toEqual(['* teapot on the beach', '* teapot in the snow', '* teapot as an oil painting']);
  });

  it('CSV quotes what needs quoting', () => {
    const csv = reportCsv({
      stage: 1,
      set: { prompts: [{ prompt: 'a man wearing * jacket, "denim"', plain: '', targets: [], absence: '' }] },
      images: [
        {
          promptIndex: 0,
          seed: 3,
          sha256: 'f'.repeat(64),
          scores: { clipIF: 0.5, clipIB: null, dinoF: null, dinoB: null, clipT: 0.25 },
          edited: true,
          maskSource: 'detector',
        },
      ],
      metrics: Object.fromEntries(METRIC_KEYS.map((k) => [k, { value: k === 'esr' ? 1 : null, missing: null }])),
    } as never).split('\n');
    expect(csv[1]).toBe(`image,"a man wearing * jacket, ""denim""",3,0.5,,,,0.25,,,true,detector,${'f'.repeat(64)}`);
    expect(csv[2]).toBe('mean,,,,,,,,,1,,,');
    expect(csv[3]).toBe('paper (Stage 1),,,,,,,,,0.845,,,');
  });
});
