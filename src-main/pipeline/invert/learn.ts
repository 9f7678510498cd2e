// Learns a concept from one photo and its mask: Stage I, then Stage II, returning the token and LoRA.
import sharp from 'sharp';
import { AppError } from '../../common/app-error.js';
import { Graph } from '../../graph/graph.js';
import { SeededRandom } from '../../graph/random.js';
import type { ExecutionProvider } from '../../graph/runtime/providers.js';
import { sessionForGraph } from '../../graph/runtime/session.js';
import { createStepRunner, describePlan, type MemoryPlan } from '../../graph/runtime/memory-plan.js';
import type { StepRunner } from '../../graph/runtime/trainer.js';
import { explainOutOfMemory } from '../../graph/runtime/out-of-memory.js';
import { WeightPool } from '../../graph/runtime/weight-pool.js';
import { weightsFrom, type WeightSource } from '../../models/params.js';
import { vaeEncode } from '../../models/vae.js';
import { CLIP_MEAN, CLIP_STD, imageEncoder, type VisionConfig } from '../../models/vision.js';
import { scaledLinearSchedule } from '../../schedulers/ddpm-schedule.js';
import type { StableDiffusionModel } from '../../weights/sd-loader.js';
import { MemorySource, RandomSource } from '../../weights/sources.js';
import { vaeFactor } from '../sample/generate.js';
import { type ConceptExample, stepFeeds } from './step-feeds.js';
import { buildSingleInsertStep, type StepShape } from './training-step.js';

export interface LearnOptions {
  steps1: number;
  steps2: number;
  batch: number;
  lr1: number;
  lr2: number;
  loraRank: number;
  seed: number;
  trainVision: boolean;
  provider?: ExecutionProvider;
  cacheDir: string;
  signal?: AbortSignal;
  onProgress?: (p: { stage: 1 | 2; step: number; total: number; loss: number }) => void;
  /** Lines for the job's log: each stage's memory plan (mode, micro-batches, estimated peak). */
  onLog?: (line: string) => void;
  /** Memory the steps may use (bytes); the system's available memory when omitted. */
  availableBytes?: number;
}

/** The method's defaults: AdamW 1e-4 (Stage I, 50 steps), 5e-5 (Stage II, 100 steps), batch 4, rank 4. */
export const PAPER_SETTINGS = { steps1: 50, steps2: 100, batch: 4, lr1: 1e-4, lr2: 5e-5, loraRank: 4, trainVision: true } as const;

export interface LearnedConcept {
  token: Float32Array;
  lora: Record<string, { shape: number[]; data: Float32Array }>;
  losses: Array<{ stage: 1 | 2; step: number; loss: number }>;
}

/** Photo + mask → the fixed inputs of every step (latents, latent-size mask, CLIP pixels, prompt ids). */
export async function prepareExample(
  sd: StableDiffusionModel,
  vision: VisionConfig,
  photo: Buffer,
  mask: Buffer,
  classWord: string,
  options: { cacheDir: string; provider?: ExecutionProvider; /** latent side; SD's native size by default (64 → 512 px) */ latentSize?: number },
): Promise<ConceptExample> {
  const latent = options.latentSize ?? sd.unet.config.sampleSize;
  const size = latent * vaeFactor(sd);
  // 1. Photo → [-1, 1] at SD's size (centre crop), then VAE latents
  const rgb = await sharp(photo).removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
  const image = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) image[c * size * size + i] = rgb[i * 3 + c]! / 127.5 - 1;
  const g = new Graph('vae_encoder');
  g.output(vaeEncode(weightsFrom(g, sd.vae.source, { prefix: 'vae.' }), sd.vae.config, g.input('image', 'float32', [1, 3, size, size])), 'latents');
  const session = await sessionForGraph(g, options);
  const x0 = (await session.run({ image: { dtype: 'float32', shape: [1, 3, size, size], data: image } })).latents!.data as Float32Array;
  await session.release();
  // 2. Mask → soft values at latent size, with the same crop
  const m = await sharp(mask).greyscale().resize(latent, latent, { fit: 'cover', kernel: 'linear' }).raw().toBuffer();
  const softMask = Float32Array.from(m, (v) => v / 255);
  if (!softMask.some((v) => v > 0.5)) throw new AppError('invalid-input', 'The mask is empty at training resolution; mark the subject first.');
  // 3. CLIP's view of the photo: shortest side to S, centre crop, normalised
  const s = vision.imageSize;
  const clipRgb = await sharp(photo).removeAlpha().resize(s, s, { fit: 'cover', kernel: 'cubic' }).raw().toBuffer();
  const pixels = new Float32Array(3 * s * s);
  for (let i = 0; i < s * s; i++) for (let c = 0; c < 3; c++) pixels[c * s * s + i] = (clipRgb[i * 3 + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  // 4. Prompts
  const concept = sd.tokenizer.encode(`* ${classWord}`, ['*']);
  return { x0, mask: softMask, pixels, idsConcept: concept.ids, idsClass: sd.tokenizer.encode(classWord).ids, placeholderPosition: concept.placeholders[0]!.position };
}

export async function learnConcept(
  sd: StableDiffusionModel,
  vision: { config: VisionConfig; source: WeightSource },
  example: ConceptExample,
  options: LearnOptions,
): Promise<LearnedConcept> {
  // the projection to the token starts fresh, as in the method
  const models = { unet: sd.unet, textEncoder: sd.textEncoder, vision, mapper: new RandomSource(options.seed) };
  const side = Math.round(Math.sqrt(example.mask.length));
  const shape: StepShape = { batch: options.batch, latent: [side, side] };
  const schedule = scaledLinearSchedule();
  const rng = new SeededRandom(options.seed);
  const losses: LearnedConcept['losses'] = [];
  const optimizer = { weightDecay: 1e-2, maxGradNorm: 1 };
  const run = async ({ runner, plan }: { runner: StepRunner; plan: MemoryPlan }, stage: 1 | 2, steps: number, lr: number) => {
    for (let step = 1; step <= steps; step++) {
      if (options.signal?.aborted) throw new AppError('cancelled', `Training cancelled in Stage ${stage} at step ${step} of ${steps}.`);
      const { loss } = await stepOrExplain(runner, plan.split(stepFeeds(example, shape, rng, schedule)), lr, stage);
      if (!Number.isFinite(loss)) throw new AppError('internal', `The loss became ${loss} in Stage ${stage} at step ${step}; try a lower learning rate.`);
      losses.push({ stage, step, loss });
      options.onProgress?.({ stage, step, total: steps, loss });
    }
  };
  // one copy of the frozen weights for both stages
  const weights = new WeightPool();
  const plan = async (stage: 1 | 2, initialParams?: Record<string, Float32Array>) => {
    const made = await createStepRunner(
      {
        build: (g, microBatch) => buildSingleInsertStep(g, models, { ...shape, batch: microBatch }, { stage, trainVision: options.trainVision, loraRank: options.loraRank }),
        ...(initialParams ? { initialParams } : {}),
        optimizer,
        provider: options.provider,
        cacheDir: options.cacheDir,
        weights,
      },
      { label: `Stage ${stage === 1 ? 'I' : 'II'} step (batch ${options.batch})`, batch: options.batch, ...(options.availableBytes ? { availableBytes: options.availableBytes } : {}) },
    );
    options.onLog?.(`Stage ${stage === 1 ? 'I' : 'II'} memory plan: ${describePlan(made.plan)}`);
    return made;
  };
  // Stage I: the encoder alone
  const stage1 = await plan(1);
  await run(stage1, 1, options.steps1, options.lr1);
  const encoder = stage1.runner.parameters();
  await stage1.runner.release();
  // Stage II: encoder (from Stage I) + LoRA
  const stage2 = await plan(2, encoder);
  await run(stage2, 2, options.steps2, options.lr2);
  const trained = stage2.runner.parameters();
  await stage2.runner.release();
  const token = await encodeToken(vision, trained, example, options);
  const lora: LearnedConcept['lora'] = {};
  for (const [name, data] of Object.entries(trained)) {
    if (!name.includes('.lora_')) continue;
    const other = data.length / options.loraRank;
    lora[name] = { shape: name.endsWith('lora_A.weight') ? [options.loraRank, other] : [other, options.loraRank], data };
  }
  return { token, lora, losses };
}

/** The token the trained encoder gives the photo: the encoder's forward alone. */
async function encodeToken(vision: { config: VisionConfig; source: WeightSource }, trained: Record<string, Float32Array>, example: ConceptExample, options: LearnOptions): Promise<Float32Array> {
  const g = new Graph('token');
  const s = vision.config.imageSize;
  // parameters the encoder did not train (the ViT when only the projection learns) come from its file
  const source = new MemorySource('trained encoder', trained);
  const merged: WeightSource = { label: source.label, shapeOf: (n, e) => source.shapeOf(n, e) ?? vision.source.shapeOf(n, e), load: (n, d, sh, o) => (source.shapeOf(n, sh) ? source.load(n, d) : vision.source.load(n, d, sh, o)) };
  g.output(imageEncoder(weightsFrom(g, merged), weightsFrom(g, merged), vision.config, g.input('pixels', 'float32', [1, 3, s, s])), 'token');
  const session = await sessionForGraph(g, { provider: options.provider, cacheDir: options.cacheDir });
  const out = await session.run({ pixels: { dtype: 'float32', shape: [1, 3, s, s], data: example.pixels } });
  await session.release();
  return Float32Array.from(out.token!.data as Float32Array);
}

/** A step; an allocation failure becomes an error that says what to change. */
async function stepOrExplain(runner: StepRunner, batches: Parameters<StepRunner['step']>[0], lr: number, stage: 1 | 2) {
  try {
    return await runner.step(batches, lr);
  } catch (err) {
    throw explainOutOfMemory(err, `A Stage ${stage === 1 ? 'I' : 'II'} step`, 'Close other programs or use a smaller --batch, then start again.');
  }
}
