// The report card's fixed, seeded image set: the versioned prompt file (resources/evaluation), the prompts
// for a concept's class word, and the two sizes a person can ask for (a CPU draft, or the paper's).
import { join } from 'node:path';
import { z } from 'zod';
import type { EvaluationSetName } from '../../../src-preload/contract/evaluations.js';
import { AppError } from '../../common/app-error.js';
import { PROJECT_ROOT } from '../../common/project-root.js';
import { readSmallFileSync } from '../../common/regular-file.js';

export const PROMPT_FILE = join(PROJECT_ROOT, 'resources', 'evaluation', 'prompts-v1.json');

const promptFile = z.object({
  version: z.number().int().positive(),
  classes: z.record(
    z.string(),
    z.object({
      absence: z.string().min(1),
      prompts: z
        .array(z.object({ prompt: z.string().includes('*'), targets: z.array(z.string().min(1)).min(1).max(2) }))
        .min(10, 'each class word needs at least 10 editing prompts'),
    }),
  ),
});

export interface EvaluationPrompt {
  /** As drawn, with `*` for the concept. */
  prompt: string;
  /** For CLIP-T, the placeholder replaced by the class word: "* face as a statue" → "face as a statue" (the word follows `*` already). */
  plain: string;
  /** What the judge looks for, and what it weighs them against. */
  targets: string[];
  absence: string;
}

/** How each set is drawn: the default stays a CPU draft; `full` is the paper's protocol (DDIM 50, more seeds). */
export const EVALUATION_SETS: Record<EvaluationSetName, { prompts: number; seeds: number; sampler: 'dpmpp2m' | 'ddim'; karras: boolean; steps: number }> = {
  default: { prompts: 4, seeds: 2, sampler: 'dpmpp2m', karras: true, steps: 12 },
  full: { prompts: Number.POSITIVE_INFINITY, seeds: 4, sampler: 'ddim', karras: false, steps: 50 },
};

/** The seed of every set's first image (then +1, +2…): the same concept always gets the same set. */
export const EVALUATION_SEED = 20_250;

export interface PromptSet {
  version: number;
  /** Which entry of the file: the class word, or "*" (any class) when it has no list of its own. */
  list: string;
  prompts: EvaluationPrompt[];
}

let cached: z.infer<typeof promptFile> | undefined;

function readPromptFile(): z.infer<typeof promptFile> {
  if (cached) return cached;
  const parsed = promptFile.safeParse(JSON.parse(readSmallFileSync(PROMPT_FILE, 1 << 20, 'the evaluation prompt file').toString('utf8')));
  if (!parsed.success) throw new AppError('internal', `${PROMPT_FILE} is not a valid prompt file: ${parsed.error.issues[0]?.message}`);
  return (cached = parsed.data);
}

/** The prompts for `classWord` (its own list, else the generic one with the word filled in), `count` of them at most. */
export function promptsFor(classWord: string, count = Number.POSITIVE_INFINITY): PromptSet {
  const file = readPromptFile();
  const word = classWord.trim().toLowerCase();
  const list = file.classes[word] ? word : '*';
  const entry = file.classes[list]!;
  const fill = (s: string) => s.replaceAll('{class}', word);
  const prompts = entry.prompts.slice(0, count).map((p) => {
    const prompt = fill(p.prompt);
    return { prompt, plain: prompt.replace(/\*\s*/, '').trim(), targets: p.targets.map(fill), absence: fill(entry.absence) };
  });
  return { version: file.version, list, prompts };
}
