// The report card's arithmetic, apart from any network: cosine similarity, averages that skip what could not be
// measured, DIV's mean over pairs, the edit judge and the sentences on what is weak.
import { METRICS, type MetricKey } from '../../../src-preload/contract/evaluations.js';

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`cosine of vectors of ${a.length} and ${b.length} values`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The mean of the values measured; null when none was. */
export function meanOf(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : known.reduce((s, v) => s + v, 0) / known.length;
}

/** Every unordered pair of `n` items, (0,1), (0,2)… */
export function pairs(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

/** DIV: per prompt, the mean distance over its image pairs; then the mean over prompts with at least two images. */
export function diversity(distancesByPrompt: ReadonlyArray<readonly number[]>): number | null {
  return meanOf(distancesByPrompt.map((d) => (d.length === 0 ? null : d.reduce((s, v) => s + v, 0) / d.length)));
}

/** CLIP's logit scale for zero-shot choices (exp of the trained 4.6052 in OpenAI's checkpoints). */
export const ZERO_SHOT_SCALE = 100;
/** The identity an edit must keep to count as successful: CLIP-I-f at least this. */
export const IDENTITY_THRESHOLD = 0.75;

export const JUDGE_RULE =
  `An edit succeeds when, for every edit target of its prompt, CLIP prefers the target's text over the class's plain photo ` +
  `(softmax of ${ZERO_SHOT_SCALE} × cosine over the two texts > 0.5), and the subject is kept (CLIP-I-f ≥ ${IDENTITY_THRESHOLD}).`;

/** The zero-shot probability that the image shows the target rather than its absence. */
export function targetProbability(image: ArrayLike<number>, target: ArrayLike<number>, absence: ArrayLike<number>): number {
  const a = ZERO_SHOT_SCALE * cosine(image, target);
  const b = ZERO_SHOT_SCALE * cosine(image, absence);
  return 1 / (1 + Math.exp(b - a));
}

/** The judge (JUDGE_RULE): every target seen, and the identity kept. */
export function editSucceeded(image: ArrayLike<number>, targets: ReadonlyArray<ArrayLike<number>>, absence: ArrayLike<number>, clipIF: number): boolean {
  return clipIF >= IDENTITY_THRESHOLD && targets.every((t) => targetProbability(image, t, absence) > 0.5);
}

/** The paper's Table 1 figure for a metric at the concept's stage (at Stage I the paper reports ESR only). */
export function paperValue(key: MetricKey, stage: 1 | 2): number | null {
  return stage === 1 ? METRICS[key].paper.stage1 : METRICS[key].paper.stage2;
}

/** How far from the paper a value may be before the report calls it weak. */
const SLACK: Record<MetricKey, number> = { clipIF: 0.05, clipIB: 0.05, dinoF: 0.08, dinoB: 0.08, clipT: 0.03, div: 0.1, esr: 0.1 };

const WHAT_IS_WEAK: Record<MetricKey, string> = {
  clipIF: 'the subject drifts from the photo',
  clipIB: 'background leaks',
  dinoF: 'the subject’s details drift',
  dinoB: 'background leaks',
  clipT: 'edits are not followed',
  div: 'images of one prompt look alike',
  esr: 'few edits succeed',
};

/** One sentence per metric worse than the paper's by more than its slack, e.g. "background leaks: CLIP-I-b 0.78 vs the paper's 0.601". */
export function weaknesses(values: Partial<Record<MetricKey, number | null>>, stage: 1 | 2): string[] {
  const out: string[] = [];
  for (const key of Object.keys(METRICS) as MetricKey[]) {
    const value = values[key];
    const info = METRICS[key];
    const paper = paperValue(key, stage);
    if (value === null || value === undefined || paper === null) continue;
    const worse = info.better === 'higher' ? value < paper - SLACK[key] : value > paper + SLACK[key];
    if (worse) out.push(`${WHAT_IS_WEAK[key]}: ${info.label} ${value.toFixed(2)} vs the paper's ${paper}`);
  }
  return out;
}
