// A run's previews: the user's test prompts drawn with the concept as it stands, every N steps and
// once from the finished concept (whose first image becomes its thumbnail). They read the weights
// the run already holds, start each prompt from the same seed every time (so the strip shows the
// concept changing, not the noise), and never stop the run: a failed preview is a line in its log.
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { previewPromptFor, type RunPreview, type TrainingRun } from '../../../src-preload/contract/training.js';
import { toApiError } from '../../common/app-error.js';
import type { WeightPool } from '../../graph/runtime/weight-pool.js';
import type { Library } from '../../library/library.js';
import { MemorySource } from '../../weights/sources.js';
import type { TaesdModel } from '../../weights/taesd-files.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import type { ConceptMeta, LoadedConcept } from '../compose/concept-file.js';
import { defaultSettings, generateImages, vaeFactor } from '../compose/generate.js';
import { installedTaesd } from '../compose/taesd-decoder.js';

/** The concept's placeholder in preview prompts (and in the concept file's own prompts). */
const PLACEHOLDER = '*';

/** DDIM and the method's guidance: previews are drawn the way the concept will be used. */
const PREVIEW_GUIDANCE = 7.5;

export interface PreviewContext {
  library: Library;
  run: TrainingRun;
  sd: StableDiffusionModel;
  weights: WeightPool;
  cacheDir: string;
  /** Where the run's steps run (its `auto` resolved), the previews too. */
  provider: ExecutionProvider;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** TAESD where installed: it decodes the previews along the way (the finished concept's are the VAE's). */
  taesd?: TaesdModel | null;
}

/** The installed TAESD for the previews along the way (said in the log), or null: the VAE decodes them. */
export function previewDecoder(library: Library, sd: StableDiffusionModel, log: (line: string) => void): TaesdModel | null {
  const notes: string[] = [];
  const found = installedTaesd(library, sd, notes);
  notes.forEach(log);
  if (found) log(`Previews along the way are decoded by ${found.name} (TAESD, quicker); the finished concept's by the VAE.`);
  return found?.model ?? null;
}

/** Whether the run draws its previews after `step` (the finished concept's are drawn apart). */
export function previewDue(run: TrainingRun, step: number): boolean {
  const s = run.settings;
  return s.previewPrompts.length > 0 && s.previewEvery > 0 && step % s.previewEvery === 0 && step < run.totalSteps;
}

/** The concept as a step leaves it: its token and its LoRA tensors (none in Stage I). */
export function conceptAt(token: Float32Array, lora: Record<string, { shape: number[]; data: Float32Array }>, meta: ConceptMeta): LoadedConcept {
  const values = Object.fromEntries(Object.entries(lora).map(([name, t]) => [name, t.data]));
  const shapes = Object.fromEntries(Object.entries(lora).map(([name, t]) => [name, t.shape]));
  return { meta, token, lora: new MemorySource('preview', values, shapes) };
}

/**
 * Draws every preview prompt with `concept` and stores each image. Returns what was drawn; a
 * cancel stops between images (the run's own loop then stops), any other error is logged.
 */
export async function drawPreviews(c: PreviewContext, at: { step: number; stage: 1 | 2; final: boolean }, concept: LoadedConcept): Promise<RunPreview[]> {
  const s = c.run.settings;
  const drawn: RunPreview[] = [];
  for (const [promptIndex, template] of s.previewPrompts.entries()) {
    if (c.signal?.aborted) break;
    const prompt = previewPromptFor(template, c.run.classWord);
    const seed = s.previewSeed + promptIndex;
    try {
      const side = s.latentSize * vaeFactor(c.sd); // the size the run trains at
      const settings = defaultSettings(c.sd, { prompt, steps: s.previewSteps, guidance: PREVIEW_GUIDANCE, seed, width: side, height: side });
      const { images } = await generateImages(c.sd, settings, {
        provider: c.provider,
        cacheDir: c.cacheDir,
        weights: c.weights,
        concepts: [{ placeholder: PLACEHOLDER, concept }],
        ...(c.taesd && !at.final ? { taesd: c.taesd } : {}),
        ...(c.signal ? { signal: c.signal } : {}),
      });
      drawn.push(await c.library.runs.addPreview(c.run.id, { step: at.step, stage: at.stage, promptIndex, prompt, seed, final: at.final }, images[0]!.png));
    } catch (err) {
      const e = toApiError(err);
      if (e.code === 'cancelled') break;
      c.log(`Preview "${prompt}" at step ${at.step} was not drawn: ${e.message}`);
    }
  }
  return drawn;
}
