// The concept report card (issue 25): draw the fixed, seeded set with the concept, find the subject in each
// image, and measure the paper's metrics against the concept's photo with whichever metric models are
// installed; what cannot be measured says which model it needs. The report goes into the library.
import sharp from 'sharp';
import type { ProviderChoice } from '../../../src-preload/contract/common.js';
import { SAMPLER_LABELS } from '../../../src-preload/contract/compose.js';
import {
  type EvaluationImage,
  type EvaluationReport,
  type EvaluationSetName,
  METRIC_KEYS,
  METRIC_MODEL_HINTS,
  METRICS,
  type MetricKey,
  type MetricModel,
} from '../../../src-preload/contract/evaluations.js';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import { resolveModelPath } from '../../model-manager/resolve-model.js';
import { chooseDevice, describeDevice } from '../../system/device-choice.js';
import { openClipModel, openDino, openLpips } from '../../weights/metric-models.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { conceptHasLora, readConceptFile } from '../compose/concept-file.js';
import { defaultSettings, generateImages } from '../compose/generate.js';
import { GroundingDino } from '../mask/grounding-dino.js';
import { SamEngine } from '../mask/sam-engine.js';
import { cosine, diversity, editSucceeded, IDENTITY_THRESHOLD, JUDGE_RULE, meanOf, pairs, weaknesses } from './metric-math.js';
import { ClipScorer, DinoScorer, LpipsScorer } from './metric-scorers.js';
import type { PlanarImage } from './preprocess.js';
import { EVALUATION_SEED, EVALUATION_SETS, promptsFor } from './prompt-set.js';

export interface EvaluateRequest {
  conceptId: string;
  /** The SD 1.x model to draw with: an installed model's id or name, or a path. */
  model: string;
  set: EvaluationSetName;
  /** What this run of the concept is, for comparisons; the concept's name by default. */
  label?: string;
  provider: ProviderChoice;
  /** Fewer (or more) prompts, seeds or steps than the set's (tests, quick looks). */
  overrides?: { prompts?: number; seeds?: number; steps?: number };
}

export interface EvaluateProgress {
  phase: 'draw' | 'measure';
  /** Units done and in all: sampling steps while drawing, images while measuring. */
  done: number;
  total: number;
  message: string;
}

export interface EvaluateHooks {
  signal?: AbortSignal;
  onProgress?: (p: EvaluateProgress) => void;
  onNote?: (note: string) => void;
}

/** Decoded RGB in [0, 1], channel-planar. */
export async function planarImage(bytes: Buffer): Promise<PlanarImage> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c]! / 255;
  return { channels: 3, width: info.width, height: info.height, data: out };
}

/** A mask PNG at `width`×`height` (resized smoothly: a soft edge), [1, H, W] in [0, 1]. */
export async function planarMask(png: Buffer, width: number, height: number): Promise<PlanarImage> {
  const data = await sharp(png).removeAlpha().greyscale().resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return { channels: 1, width, height, data: Float32Array.from(data, (v) => v / 255) };
}

const throwIfCancelled = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new AppError('cancelled', 'The evaluation was cancelled; nothing was stored.');
};

/** The first installed model of `family` that opens (a CLIP vision-only folder, say, cannot score text); why the others could not. */
function openInstalled<T>(library: Library, family: MetricModel, open: (path: string) => T, notes: string[]): { model: T; name: string } | null {
  const refused: string[] = [];
  for (const record of library.models.list().filter((m) => m.family === family)) {
    try {
      return { model: open(record.path), name: record.name };
    } catch (err) {
      refused.push(`${record.name}: ${(err as Error).message}`);
    }
  }
  if (refused.length > 0) notes.push(`No installed ${family.toUpperCase()} model could be used (${refused.join('; ')}).`);
  return null;
}

const missingText = (models: readonly MetricModel[]) =>
  `needs ${models.map((m) => METRIC_MODEL_HINTS[m]).join(' and ')}; add it in Settings › Models or with \`singleinsert models add <path>\``;

export async function evaluateConcept(library: Library, request: EvaluateRequest, hooks: EvaluateHooks = {}): Promise<EvaluationReport> {
  const started = Date.now();
  const concept = library.concepts.get(request.conceptId);
  if (concept.kind !== 'subject')
    throw new AppError('invalid-input', `"${concept.name}" is a style concept; the report card measures subject concepts (a token and a photo).`);
  if (!concept.imageId || !concept.maskId) {
    throw new AppError(
      'invalid-input',
      `"${concept.name}" has no photo and mask in the library (an imported concept?); the report card compares against them.`,
    );
  }
  const set = { ...EVALUATION_SETS[request.set], ...request.overrides };
  const promptSet = promptsFor(concept.classWord, set.prompts);
  const notes: string[] = [];
  const note = (text: string) => {
    notes.push(text);
    hooks.onNote?.(text);
  };

  // 1. The metric models the library has (none is fetched)
  const clip = openInstalled(library, 'clip', openClipModel, notes);
  const dino = openInstalled(library, 'dino', openDino, notes);
  const lpips = openInstalled(library, 'lpips', openLpips, notes);
  notes.forEach((n) => hooks.onNote?.(n));
  const have: Record<MetricModel, boolean> = { clip: clip !== null, dino: dino !== null, lpips: lpips !== null };
  const absent = (Object.keys(have) as MetricModel[]).filter((m) => !have[m]);
  if (absent.length > 0)
    note(
      `Without ${absent.map((m) => m.toUpperCase()).join(', ')}: ${METRIC_KEYS.filter((k) => METRICS[k].needs.some((m) => !have[m]))
        .map((k) => METRICS[k].label)
        .join(', ')} will not be measured.`,
    );

  // 2. Draw the set: every prompt with the same seeds, the concept behind `*`
  const { path: sdPath } = resolveModelPath(library.dataDir, request.model);
  const sd = openStableDiffusion(sdPath);
  const loaded = readConceptFile(library.concepts.filePath(concept.id), concept.id);
  const stage: 1 | 2 = conceptHasLora(library.concepts.filePath(concept.id)) ? 2 : 1;
  const device = await chooseDevice(request.provider, library.preferences.get().provider);
  note(describeDevice(device));
  const cacheDir = library.graphCacheDir();
  const drawn: Array<{ promptIndex: number; seed: number; png: Buffer }> = [];
  const totalSteps = promptSet.prompts.length * set.steps;
  let settings = defaultSettings(sd, { prompt: '*' });
  for (const [promptIndex, p] of promptSet.prompts.entries()) {
    throwIfCancelled(hooks.signal);
    settings = defaultSettings(sd, { prompt: p.prompt, sampler: set.sampler, karras: set.karras, steps: set.steps, seed: EVALUATION_SEED, count: set.seeds });
    const { images } = await generateImages(sd, settings, {
      concepts: [{ placeholder: '*', concept: loaded, scale: 1, useToken: true }],
      provider: device.provider,
      cacheDir,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onProgress: (s) =>
        hooks.onProgress?.({
          phase: 'draw',
          done: promptIndex * set.steps + s.step,
          total: totalSteps,
          message: `Drawing “${p.prompt}” (step ${s.step} of ${s.total})`,
        }),
    });
    for (const image of images) drawn.push({ promptIndex, seed: image.seed, png: image.png });
  }

  // 3. The subject in each image: GroundingDINO's box of the class word → SAM, else the concept's own region
  const photo = await planarImage(await library.store.read(library.images.get(concept.imageId).sha256));
  const maskPng = await library.store.read(library.masks.get(concept.maskId).sha256);
  const photoMask = await planarMask(maskPng, photo.width, photo.height);
  const detectorRecord = library.models.list().find((m) => m.family === 'grounding-dino');
  let detector: { dino: GroundingDino; sam: SamEngine } | null = null;
  if (detectorRecord) {
    try {
      detector = {
        dino: await GroundingDino.load(detectorRecord.path, { provider: device.provider }),
        sam: await SamEngine.load({ provider: device.provider }),
      };
    } catch (err) {
      note(`The detector could not be loaded (${(err as Error).message}); each image uses the concept's own region.`);
    }
  }
  const segmentation = detector ? `GroundingDINO (${detectorRecord!.name}) + SAM on “${concept.classWord}”` : 'the concept’s own mask, resized to each image';
  const subjectMask = async (png: Buffer, width: number, height: number): Promise<{ mask: PlanarImage; source: EvaluationImage['maskSource'] }> => {
    if (detector) {
      const best = (await detector.dino.detect(png, concept.classWord))[0];
      if (best) {
        const seg = await detector.sam.segment(await detector.sam.embed(png), { box: best.box });
        return { mask: { channels: 1, width, height, data: Float32Array.from(seg.mask, (v) => (v ? 1 : 0)) }, source: 'detector' };
      }
    }
    return { mask: await planarMask(maskPng, width, height), source: 'concept-region' };
  };

  // 4. Measure each image against the photo; then DIV over each prompt's images
  const options = { provider: device.provider, cacheDir };
  const clipScorer = clip ? await ClipScorer.open(clip.model, options) : null;
  const dinoScorer = dino ? await DinoScorer.open(dino.model, options) : null;
  const lpipsScorer = lpips ? await LpipsScorer.open(lpips.model, options) : null;
  try {
    const ref = {
      clipF: clipScorer && (await clipScorer.embedImage(photo, photoMask)),
      clipB: clipScorer && (await clipScorer.embedImage(photo, photoMask, true)),
      dinoF: dinoScorer && (await dinoScorer.embed(photo, photoMask)),
      dinoB: dinoScorer && (await dinoScorer.embed(photo, photoMask, true)),
    };
    const texts = new Map<string, Float32Array>();
    const text = async (t: string) => texts.get(t) ?? texts.set(t, await clipScorer!.embedText(t)).get(t)!;
    const measured: Array<Omit<EvaluationImage, 'sha256'>> = [];
    const forLpips: Float32Array[] = [];
    let detectorMisses = 0;
    for (const [i, image] of drawn.entries()) {
      throwIfCancelled(hooks.signal);
      hooks.onProgress?.({ phase: 'measure', done: i, total: drawn.length, message: `Measuring image ${i + 1} of ${drawn.length}` });
      const pixels = await planarImage(image.png);
      const { mask, source } = await subjectMask(image.png, pixels.width, pixels.height);
      if (detector && source !== 'detector') detectorMisses++;
      const p = promptSet.prompts[image.promptIndex]!;
      const scores: EvaluationImage['scores'] = { clipIF: null, clipIB: null, dinoF: null, dinoB: null, clipT: null };
      let edited: boolean | null = null;
      if (clipScorer) {
        const whole = await clipScorer.embedImage(pixels, null);
        scores.clipIF = cosine(await clipScorer.embedImage(pixels, mask), ref.clipF!);
        scores.clipIB = cosine(await clipScorer.embedImage(pixels, mask, true), ref.clipB!);
        scores.clipT = cosine(whole, await text(p.plain));
        const targets = await Promise.all(p.targets.map(text));
        edited = editSucceeded(whole, targets, await text(p.absence), scores.clipIF);
      }
      if (dinoScorer) {
        scores.dinoF = cosine(await dinoScorer.embed(pixels, mask), ref.dinoF!);
        scores.dinoB = cosine(await dinoScorer.embed(pixels, mask, true), ref.dinoB!);
      }
      if (lpipsScorer) forLpips.push(lpipsScorer.prepare(pixels));
      measured.push({ promptIndex: image.promptIndex, seed: image.seed, scores, edited, maskSource: source });
    }
    if (detectorMisses > 0)
      note(`The detector found no “${concept.classWord}” in ${detectorMisses} of ${drawn.length} images; those use the concept's own region.`);
    let div: number | null = null;
    if (lpipsScorer) {
      const byPrompt: number[][] = promptSet.prompts.map(() => []);
      for (const [pi] of promptSet.prompts.entries()) {
        const members = measured.flatMap((m, i) => (m.promptIndex === pi ? [i] : []));
        for (const [a, b] of pairs(members.length)) byPrompt[pi]!.push(await lpipsScorer.distance(forLpips[members[a]!]!, forLpips[members[b]!]!));
      }
      div = diversity(byPrompt);
    }
    hooks.onProgress?.({ phase: 'measure', done: drawn.length, total: drawn.length, message: 'Measured' });

    // 5. The averages, what is weak, and the cost
    const values: Record<MetricKey, number | null> = {
      clipIF: meanOf(measured.map((m) => m.scores.clipIF)),
      clipIB: meanOf(measured.map((m) => m.scores.clipIB)),
      dinoF: meanOf(measured.map((m) => m.scores.dinoF)),
      dinoB: meanOf(measured.map((m) => m.scores.dinoB)),
      clipT: meanOf(measured.map((m) => m.scores.clipT)),
      div,
      esr: meanOf(measured.map((m) => (m.edited === null ? null : m.edited ? 1 : 0))),
    };
    const metrics = Object.fromEntries(
      METRIC_KEYS.map((k) => {
        const lacking = METRICS[k].needs.filter((m) => !have[m]);
        return [k, { value: values[k], missing: lacking.length > 0 ? missingText(lacking) : null }];
      }),
    ) as EvaluationReport['metrics'];
    throwIfCancelled(hooks.signal);
    return await library.evaluations.add({
      conceptId: concept.id,
      conceptName: concept.name,
      stage,
      label: request.label?.trim() || concept.name,
      set: {
        name: request.set,
        promptFileVersion: promptSet.version,
        list: promptSet.list,
        prompts: promptSet.prompts,
        seeds: set.seeds,
        sampler: `${SAMPLER_LABELS[set.sampler]}${set.karras ? ' Karras' : ''}`,
        steps: set.steps,
        guidance: settings.guidance,
        width: settings.width,
        height: settings.height,
      },
      metrics,
      models: {
        sd: sd.label,
        clip: clip?.name ?? null,
        dino: dino ? `${dino.name} (${dino.model.description})` : null,
        lpips: lpips?.name ?? null,
        segmentation,
      },
      judge: { rule: JUDGE_RULE, identityThreshold: IDENTITY_THRESHOLD },
      weak: weaknesses(values, stage),
      cost: { seconds: (Date.now() - started) / 1000, images: drawn.length, provider: device.label, peakRssBytes: process.resourceUsage().maxRSS * 1024 },
      images: measured.map((m, i) => ({ ...m, png: drawn[i]!.png })),
    });
  } finally {
    await Promise.all([clipScorer?.release(), dinoScorer?.release(), lpipsScorer?.release()]);
  }
}
