// One training run from its row to its concept: the photo's example, Stage I, Stage II, the token
// and LoRA into a concept file. Every step is recorded; every N steps (and at the stage boundary)
// a checkpoint is written, and a run that finds one goes on from it, taking exactly the steps an
// uninterrupted run would have taken (same random draws, same memory plan, same optimizer state).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LearnSettings, RunPreview, RunStep, TrainingRun } from '../../../src-preload/contract/training.js';
import { AppError } from '../../common/app-error.js';
import { Graph } from '../../graph/graph.js';
import { SeededRandom } from '../../graph/random.js';
import { createStepRunner, describePlan, formatGb, type MemoryPlan, type PlanRequest, planStep, type StepBuild } from '../../graph/runtime/memory-plan.js';
import { explainOutOfMemory } from '../../graph/runtime/out-of-memory.js';
import { isFloat } from '../../graph/dtype.js';
import { pooledSession } from '../../graph/runtime/pooled-session.js';
import type { StepRunner } from '../../graph/runtime/trainer.js';
import { WeightPool } from '../../graph/runtime/weight-pool.js';
import type { Library } from '../../library/library.js';
import { resolveModel } from '../../model-manager/resolve-model.js';
import { isLoraWeight } from '../../models/lora.js';
import { weightsFrom, type WeightSource } from '../../models/params.js';
import { imageEncoder, type VisionConfig } from '../../models/vision.js';
import { scaledLinearSchedule } from '../../schedulers/ddpm-schedule.js';
import { chooseDevice, describeDevice } from '../../system/device-choice.js';
import { computePrecision } from '../../system/compute-precision.js';
import { storageBindingLimitBytes } from '../../system/gpu-adapters.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { keepFreedMemory, releaseFreedMemory, trimHeap } from '../../system/malloc-tune.js';
import { peakResidentBytes, resetPeakResident, residentBytes } from '../../system/process-memory.js';
import { deviceMemory } from '../../system/device-memory.js';
import { MemoryWatch, memoryFloor } from '../../system/memory-watch.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import { MemorySource, RandomSource, shapesOnly } from '../../weights/sources.js';
import { type ConceptMeta, writeConceptFile } from '../compose/concept-file.js';
import { thumbnailOf } from '../ingest/normalize-photo.js';
import { type ConceptExample, stepFeeds } from '../invert/step-feeds.js';
import { buildSingleInsertStep, type SingleInsertModels, type StepShape } from '../invert/training-step.js';
import { loadCheckpoint, removeRunDir, saveCheckpoint } from './checkpoint.js';
import { type ImageEncoderChoice, openImageEncoder } from './encoder.js';
import { prepareExample } from './example.js';
import { conceptAt, drawPreviews, previewDecoder, previewDue, type PreviewContext } from './previews.js';
import type { TrainingStage } from './stage.js';
import { STAGE_ONE } from './stage1.js';
import { STAGE_TWO } from './stage2.js';

export const STAGES: readonly TrainingStage[] = [STAGE_ONE, STAGE_TWO];

export interface RunHooks {
  /** Aborting stops the run before its next step (cancelled; its last checkpoint is kept). */
  signal?: AbortSignal;
  onStep?: (run: TrainingRun, step: RunStep) => void;
  /** Preview images just drawn (every `previewEvery` steps, and from the finished concept). */
  onPreviews?: (run: TrainingRun, previews: RunPreview[]) => void;
  onLog?: (line: string) => void;
  /** The architecture of the "official" encoder: ViT-B/32 unless a test asks for a small one. */
  officialEncoder?: VisionConfig;
  /** Reads the device's free memory for the run's watch (deviceMemory by default; tests play other programs taking it). */
  freeMemory?: () => number | Promise<number>;
}

const OPTIMIZER = { weightDecay: 1e-2, maxGradNorm: 1 };
/** float16 steps: the loss scale's start (checked by the float16 Stage II test) and how many overflows in a row end the run. */
const LOSS_SCALE = { initial: 1024 };
const MAX_OVERFLOWS = 16;

/** A run's settings with its provider resolved (`auto` → the device chooseDevice picked). */
export type RunSettings = Omit<LearnSettings, 'provider'> & { provider: ExecutionProvider };

/** Runs (or goes on with) a claimed run to its concept. The caller records how it ended if this throws. */
export async function runLearning(library: Library, runId: string, hooks: RunHooks = {}): Promise<TrainingRun> {
  keepFreedMemory();
  // the frozen weights every stage, step and preview of the run reads (on a GPU: uploaded once, freed at the end)
  const weights = new WeightPool();
  try {
    return await learn(library, runId, hooks, weights);
  } finally {
    weights.clear();
    releaseFreedMemory();
  }
}

async function learn(library: Library, runId: string, hooks: RunHooks, weights: WeightPool): Promise<TrainingRun> {
  const runs = library.runs;
  const run = runs.get(runId);
  const log = (line: string) => {
    runs.log(runId, line);
    hooks.onLog?.(line);
  };
  // where the steps run: the run's choice, `auto` resolved on this machine now (a resumed run may move)
  const device = await chooseDevice(run.settings.provider, library.preferences.get().provider);
  const s: RunSettings = { ...run.settings, provider: device.provider };
  log(describeDevice(device));
  log(`Computes in ${computePrecision(s.provider).reason}; the trained encoder and LoRA, and their optimizer state, in float32.`);
  // one count everywhere: the run's own steps (as its header, chart and Resume button count them), the stage beside it
  const stopIfAsked = async (where: () => string, keep?: () => Promise<void>) => {
    if (!hooks.signal?.aborted && !runs.cancelRequested(runId)) return;
    await keep?.();
    const at = runs.get(runId).checkpointStep;
    throw new AppError('cancelled', `Training cancelled ${where()}; resume it to go on from step ${at}, its last checkpoint.`);
  };

  // 1. Models, photo and mask → the example every step uses
  const sdRef = resolveModel(library, run.modelRef);
  const sd = openStableDiffusion(sdRef.path);
  const encoder = openImageEncoder(library, s, sd.textEncoder.config.hiddenSize, hooks.officialEncoder);
  if (!run.imageId || !run.maskId) throw new AppError('not-found', 'The photo or mask of this run was deleted from the library; start a new run.');
  const image = library.images.get(run.imageId);
  const mask = library.masks.get(run.maskId);
  const cacheDir = library.graphCacheDir();
  const example = await prepareExample(sd, encoder, await library.store.read(image.sha256), await library.store.read(mask.sha256), run.classWord, {
    cacheDir,
    provider: s.provider,
    latentSize: s.latentSize,
    sampleLatents: s.latents === 'sample',
  });
  const models: SingleInsertModels = { unet: sd.unet, textEncoder: sd.textEncoder, vision: encoder, mapper: new RandomSource(s.seed) };
  const budget = await memoryBudget(s);
  const availableBytes = budget.bytes;
  // on the CPU the steps share the process's memory with what it holds before they start (weights the steps share aside)
  const processBytes = s.provider === 'cpu' ? processBaseline(weights) : 0;
  log(`Memory for the steps: ${formatGb(budget.bytes)}, ${budget.source}.`);
  // other programs may take memory while the run goes: below this floor the run stops after its step, saved
  const readFree = hooks.freeMemory ?? (async () => (await deviceMemory(s.provider)).freeBytes);
  const watch = new MemoryWatch(readFree, memoryFloor(budget.freeBytes), s.provider === 'webgpu' ? 2000 : 250);

  // 2. Where to start: the last checkpoint, or the beginning
  const dir = library.runs.runDir(runId);
  const resumed = loadCheckpoint(dir);
  const rng = resumed ? SeededRandom.restore(resumed.rng) : new SeededRandom(s.seed);
  let step = resumed?.step ?? 0;
  runs.rewindTo(runId, step);
  log(
    resumed
      ? `Resumed at step ${step} of ${run.totalSteps} (${resumed.stage === 1 ? 'Stage I' : 'Stage II'}, from the last checkpoint).`
      : `Started: ${encoder.label}; ${s.batch === 1 ? 'the photo once' : `${s.batch} copies of the photo`} per step.`,
  );

  // 3. The stages; `carried` holds what Stage I hands to Stage II (the trained encoder)
  const schedule = scaledLinearSchedule();
  const meta: ConceptMeta = { classWord: run.classWord, baseModel: sdRef.modelId ?? sd.label, loraRank: s.loraRank };
  const taesd = s.previewPrompts.length ? previewDecoder(library, sd, log) : null;
  const previews: PreviewContext = { library, run, sd, weights, cacheDir, log, provider: s.provider, taesd, ...(hooks.signal ? { signal: hooks.signal } : {}) };
  const preview = async (at: { step: number; stage: 1 | 2; final: boolean }, trained: Record<string, Float32Array>, token?: Float32Array) => {
    const concept = conceptAt(
      token ?? (await encodeToken(encoder, trained, example, weights, { provider: s.provider, cacheDir })),
      loraOf(trained, s.loraRank),
      meta,
    );
    const drawn = await drawPreviews(previews, at, concept);
    if (drawn.length) hooks.onPreviews?.(runs.get(runId), drawn);
    return drawn;
  };
  let carried: Record<string, Float32Array> | undefined = resumed && resumed.stageStep === 0 ? resumed.trainer.tensors : undefined;
  for (const stage of STAGES) {
    const total = stage.steps(s);
    if (resumed && stage.stage < resumed.stage) continue;
    const from = resumed && stage.stage === resumed.stage ? resumed : null;
    if (total === 0) continue;
    await stopIfAsked(() => `after step ${step} of ${run.totalSteps}, before ${stage.title}`);
    // each stage starts from a trimmed heap (the last stage's buffers collected) and measures its own peak
    trimHeap();
    const measured = resetPeakResident();
    const { runner, plan } = await openStage(stage, s, models, {
      carried,
      weights,
      cacheDir,
      availableBytes,
      processBytes,
      microBatches: from?.stageStep ? from.microBatches : null,
    });
    log(`${stage.title} memory plan: ${describePlan(plan)}`);
    try {
      watch.start();
      if (from && from.stageStep > 0) await runner.loadState(from.trainer);
      const checkpoint = async (done: number) => {
        const trainer = await runner.saveState();
        saveCheckpoint(dir, { stage: stage.stage, stageStep: done, step, rng: rng.snapshot(), microBatches: plan.microBatches, trainer });
        runs.checkpointed(runId, step);
      };
      const first = from?.stageStep ?? 0;
      let overflows = 0;
      for (let done = first; done < total;) {
        // a cancelled run keeps every step it took
        await stopIfAsked(
          () => `after step ${step} of ${run.totalSteps} (${stage.title})`,
          async () => {
            if (done > first) await checkpoint(done);
          },
        );
        const started = performance.now();
        const result = await stepOrExplain(runner, plan.split(stepFeeds(example, stepShape(s), rng, schedule)), stage.lr(s), stage.title);
        if (result.skipped) {
          // float16 gradients overflowed: the trainer lowered its loss scale; the step is taken again
          if (++overflows > MAX_OVERFLOWS)
            throw new AppError(
              'internal',
              `${stage.title}'s float16 gradients overflowed ${overflows} times running; run it on the CPU (float32) or lower the learning rate.`,
            );
          log(`Step ${step + 1} (${stage.title}): float16 gradients overflowed; taken again at loss scale ${result.lossScale}.`);
          continue;
        }
        overflows = 0;
        if (!Number.isFinite(result.loss))
          throw new AppError(
            'internal',
            `The loss became ${result.loss} at step ${step + 1} of ${run.totalSteps} (${stage.title}); try a lower learning rate.`,
          );
        done++;
        step++;
        const term = (name: string) => (result.outputs[name] ? Number(result.outputs[name].data[0]) : null);
        const rssMb = process.memoryUsage.rss() / 2 ** 20;
        const record: RunStep = {
          step,
          stage: stage.stage,
          loss: result.loss,
          lFg: term('l_fg') ?? 0,
          lBg: term('l_bg') ?? 0,
          lSm: term('l_sm'),
          gradNorm: result.gradNorm,
          ms: performance.now() - started,
          rssMb,
        };
        runs.recordStep(runId, stage.stage, record);
        const pressure = await watch.check();
        if (pressure && done < total) {
          await checkpoint(done);
          throw new AppError(
            'out-of-memory',
            `Stopped after step ${step} of ${run.totalSteps} (${stage.title}) before the machine ran out of memory: free memory fell to ${formatGb(pressure.lowestFreeBytes)} ` +
              `(the run stops below ${formatGb(pressure.floorBytes)}). Every step so far is saved: close other programs, then resume it from step ${step}.`,
          );
        }
        if (done % s.checkpointEvery === 0 && done < total) await checkpoint(done);
        hooks.onStep?.(runs.get(runId), record);
        if (previewDue(run, step)) await preview({ step, stage: stage.stage, final: false }, await runner.parameters());
      }
      carried = await runner.parameters();
      if (s.provider === 'cpu' && measured)
        log(`${stage.title} memory: peak ${formatGb(peakResidentBytes())} resident (the plan estimated ${formatGb(plan.estimate.peak)}).`);
      else if (Number.isFinite(watch.lowestSinceStart))
        log(
          `${stage.title} memory: the device's free memory fell to ${formatGb(watch.lowestSinceStart)} at the lowest (the plan estimated ${formatGb(plan.estimate.peak)} for the step).`,
        );
    } finally {
      watch.stop();
      await runner.release();
    }
    if (stage.stage === 1) {
      // the boundary: Stage II starts from this encoder whatever happens next
      saveCheckpoint(dir, {
        stage: 2,
        stageStep: 0,
        step,
        rng: rng.snapshot(),
        microBatches: null,
        trainer: { step: 0, lossScale: 1, goodSteps: 0, tensors: carried },
      });
      runs.checkpointed(runId, step);
    }
  }

  // 4. The concept: the trained encoder's token for the photo, and the LoRA (all steps are taken: no cancel here)
  const trained = carried ?? {};
  const token = await encodeToken(encoder, trained, example, weights, { provider: s.provider, cacheDir });
  const file = join(dir, 'concept.safetensors');
  writeConceptFile(file, token, loraOf(trained, s.loraRank), meta);
  // its previews, drawn from exactly what the file holds; the first prompt's is its thumbnail
  const last = STAGES.filter((st) => st.steps(s) > 0).at(-1)?.stage ?? 1;
  const [first] = s.previewPrompts.length ? await preview({ step: run.totalSteps, stage: last, final: true }, trained, token) : [];
  const thumb = first ? await thumbnailOf(await library.store.read(first.sha256)) : null;
  const concept = await library.concepts.add(
    { name: run.name, classWord: run.classWord, imageId: run.imageId, maskId: run.maskId, baseModelId: sdRef.modelId, file: readFileSync(file), thumb },
    (conceptId) => runs.finish(runId, 'succeeded', { conceptId }),
  );
  removeRunDir(dir);
  log(`Finished: concept ${concept.id} "${concept.name}".`);
  return runs.get(runId);
}

/** What a training process holds besides the steps' memory: resident after a trim, less the shared weights already loaded. */
const processBaseline = (weights: WeightPool) => {
  trimHeap();
  return Math.max(0, residentBytes() - weights.heldBytes);
};

/** The step of one stage as the memory plan builds it (at each candidate micro-batch size). */
const stepBuild =
  (stage: TrainingStage, s: RunSettings, models: SingleInsertModels): StepBuild =>
  (g, microBatch) =>
    buildSingleInsertStep(g, models, { ...stepShape(s), batch: microBatch }, { ...stage.stepOptions(s), dtype: computePrecision(s.provider).dtype });

const stepShape = (s: RunSettings): StepShape => ({ batch: s.batch, latent: [s.latentSize, s.latentSize] });

/** What a stage's plan is asked: the batch, the memory, and the micro-batches if fixed (by the user or a resumed stage). */
const planRequest = (stage: TrainingStage, s: RunSettings, availableBytes: number, microBatches: number | null, processBytes: number): PlanRequest => {
  const fixed = microBatches ?? (s.microBatches || null);
  return {
    label: `${stage.title} step (batch ${s.batch}, ${s.latentSize * 8} px)`,
    batch: s.batch,
    availableBytes,
    provider: s.provider,
    ...(s.provider === 'webgpu' ? { bindingLimitBytes: storageBindingLimitBytes() } : {}),
    processBytes,
    ...(fixed ? { microBatches: fixed } : {}),
  };
};

/** A stage's step runner, on the plan the memory allows (or the one a resumed stage ran with). */
async function openStage(
  stage: TrainingStage,
  s: RunSettings,
  models: SingleInsertModels,
  o: {
    carried: Record<string, Float32Array> | undefined;
    weights: WeightPool;
    cacheDir: string;
    availableBytes: number;
    processBytes: number;
    microBatches: number | null;
  },
): Promise<{ runner: StepRunner; plan: MemoryPlan }> {
  return createStepRunner(
    {
      build: stepBuild(stage, s, models),
      estimate: stepBuild(stage, s, withoutValues(models)),
      ...(o.carried ? { initialParams: o.carried } : {}),
      optimizer: OPTIMIZER,
      ...(computePrecision(s.provider).dtype === 'float16' ? { lossScale: LOSS_SCALE } : {}),
      provider: s.provider,
      cacheDir: o.cacheDir,
      weights: o.weights,
    },
    planRequest(stage, s, o.availableBytes, o.microBatches, o.processBytes),
  );
}

/** The models' names and shapes without their values, for memory estimates. */
export function withoutValues(m: SingleInsertModels): SingleInsertModels {
  return {
    unet: { ...m.unet, source: shapesOnly(m.unet.source) },
    textEncoder: { ...m.textEncoder, source: shapesOnly(m.textEncoder.source) },
    vision: { ...m.vision, source: shapesOnly(m.vision.source) },
    mapper: shapesOnly(m.mapper),
  };
}

/**
 * Before a run is queued: would each stage's step fit the memory there is? Refuses (out-of-memory, with
 * what it needs, what is free and what to change) when even the smallest plan does not.
 */
export async function preflight(sd: StableDiffusionModel, encoder: ImageEncoderChoice, s: RunSettings): Promise<string[]> {
  const models = withoutValues({ unet: sd.unet, textEncoder: sd.textEncoder, vision: encoder, mapper: new RandomSource(s.seed) });
  const availableBytes = (await memoryBudget(s)).bytes;
  return STAGES.filter((stage) => stage.steps(s) > 0).map(
    (stage) =>
      `${stage.title}: ${describePlan(planStep(stepBuild(stage, s, models), planRequest(stage, s, availableBytes, null, s.provider === 'cpu' ? residentBytes() : 0)))}`,
  );
}

/** The memory the steps must fit, and where that figure comes from (for the run's log). */
export interface MemoryBudget {
  bytes: number;
  source: string;
  /** What the device had free when the run planned (the watch's floor is a share of it). */
  freeBytes: number;
}

/**
 * Memory the steps must fit (the plan splits the batch to fit it): the free memory of the device that runs
 * them (deviceMemory); maxMemoryGb caps it (to leave room for other programs).
 */
export async function memoryBudget(s: Pick<RunSettings, 'provider' | 'maxMemoryGb'>): Promise<MemoryBudget> {
  const device = await deviceMemory(s.provider);
  const cap = s.maxMemoryGb * 2 ** 30;
  if (s.maxMemoryGb > 0 && cap < device.freeBytes)
    return { bytes: cap, source: `the run's memory limit (${formatGb(device.freeBytes)} is free: ${device.source})`, freeBytes: device.freeBytes };
  return { bytes: device.freeBytes, source: device.source, freeBytes: device.freeBytes };
}

/** The LoRA factors among trained parameters, shaped as a concept file keeps them. */
function loraOf(trained: Record<string, Float32Array>, rank: number): Record<string, { shape: number[]; data: Float32Array }> {
  const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, data] of Object.entries(trained)) {
    if (!isLoraWeight(name)) continue;
    const other = data.length / rank;
    lora[name] = { shape: name.endsWith('lora_A.weight') ? [rank, other] : [other, rank], data };
  }
  return lora;
}

/**
 * The token the trained encoder gives the photo: the encoder's forward alone. Its weights are fed
 * (not written into the graph), so drawing previews mid-run compiles this graph once.
 */
async function encodeToken(
  encoder: ImageEncoderChoice,
  trained: Record<string, Float32Array>,
  example: ConceptExample,
  weights: WeightPool,
  options: { provider: ExecutionProvider; cacheDir: string },
): Promise<Float32Array> {
  const g = new Graph('token');
  const size = encoder.config.imageSize;
  // parameters the run did not train come from the encoder's own source
  const own = new MemorySource('trained encoder', trained);
  const merged: WeightSource = {
    label: own.label,
    shapeOf: (n, e) => own.shapeOf(n, e) ?? encoder.source.shapeOf(n, e),
    load: (n, d, sh, o) => (own.shapeOf(n, sh) ? own.load(n, d) : encoder.source.load(n, d, sh, o)),
  };
  g.output(imageEncoder(weightsFrom(g, merged), weightsFrom(g, merged), encoder.config, g.input('pixels', 'float32', [1, 3, size, size])), 'token');
  const session = await pooledSession(g, weights, { ...options, fed: (init) => isFloat(init.tensor.dtype) });
  const out = await session.run({ pixels: { dtype: 'float32', shape: [1, 3, size, size], data: example.pixels } });
  await session.release();
  return Float32Array.from(out.token!.data as Float32Array);
}

/** A step; an allocation failure becomes an error that says what to change. */
async function stepOrExplain(runner: StepRunner, batches: Parameters<StepRunner['step']>[0], lr: number, title: string) {
  try {
    return await runner.step(batches, lr);
  } catch (err) {
    throw explainOutOfMemory(
      err,
      `A ${title} step`,
      'Close other programs, use a smaller batch or more micro-batches, or another provider, then resume the run.',
    );
  }
}
