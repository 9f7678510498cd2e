// `npm run -s bench:gpu [-- --tiny]`: the GPU path end to end, on the provider `auto` picks (BENCH_PROVIDER
// overrides): SD 1.5-shaped sampling at 512² in float16 with guidance (batch 2), Stage I and Stage II steps at
// batch 4, the host↔device bytes of each step, peak device memory (NVML, on NVIDIA), and the projected time to
// a Faithful concept (50 + 100 steps). `--tiny` runs the test configuration: the CI smoke test on lavapipe.
// Prints JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { SeededRandom } from '../../graph/random.js';
import { CheckpointedTrainer } from '../../graph/runtime/checkpointed-trainer.js';
import { type TransferCounts, transfersSince, transferTotals } from '../../graph/runtime/transfers.js';
import { WeightPool } from '../../graph/runtime/weight-pool.js';
import { SD15_CLIP_TEXT } from '../../models/clip-text.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../models/tiny-configs.js';
import { SD15_UNET } from '../../models/unet.js';
import { SD15_VAE } from '../../models/vae.js';
import { CLIP_VIT_B32, type VisionConfig } from '../../models/vision.js';
import { scaledLinearSchedule } from '../../schedulers/ddpm-schedule.js';
import { chooseDevice } from '../../system/device-choice.js';
import { probeGpus } from '../../system/gpu-probe.js';
import { ClipTokenizer } from '../../tokenizer/clip-tokenizer.js';
import { fastRandomFill, type SdConfigs, sdWeights, writeDiffusersFolder } from '../../weights/random-checkpoint.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { BUNDLED_MERGES } from '../../weights/sd-model.js';
import { RandomSource } from '../../weights/sources.js';
import { defaultSettings, generateImages, vaeFactor } from '../compose/generate.js';
import { type ConceptExample, stepFeeds } from '../invert/step-feeds.js';
import { buildSingleInsertStep } from '../invert/training-step.js';

const { values } = parseArgs({ options: { tiny: { type: 'boolean', default: false } } });
const tiny = values.tiny!;
const configs: SdConfigs = tiny ? { unet: TINY_UNET, text: TINY_CLIP_TEXT, vae: TINY_VAE } : { unet: SD15_UNET, text: SD15_CLIP_TEXT, vae: SD15_VAE };
const vision: VisionConfig = tiny
  ? { imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 12, eps: 1e-5, tokenDim: TINY_CLIP_TEXT.hiddenSize }
  : CLIP_VIT_B32;
const sampleSteps = tiny ? 5 : 20;
const trainSteps = 3;
const batch = 4;

const provider: ExecutionProvider = (process.env.BENCH_PROVIDER as ExecutionProvider | undefined) ?? (await chooseDevice('auto')).provider;
const dtype = provider === 'cpu' ? 'float32' : 'float16';
const root = mkdtempSync(join(tmpdir(), 'si-gpu-bench-'));

/** The most device memory in use while `work` runs, above what was in use before (NVIDIA only). */
async function peakDeviceMemory<T>(work: () => Promise<T>): Promise<{ result: T; peakBytes: number | null }> {
  const used = async () => {
    const d = (await probeGpus()).devices[0];
    return d ? d.totalBytes - d.freeBytes : null;
  };
  const before = await used();
  if (before === null) return { result: await work(), peakBytes: null };
  let peak = before;
  const timer = setInterval(() => void used().then((u) => (peak = Math.max(peak, u ?? 0))), 100);
  try {
    return { result: await work(), peakBytes: peak - before };
  } finally {
    clearInterval(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const perStep = (moved: TransferCounts[]) => ({
  uploadBytes: Math.max(...moved.map((m) => m.uploadBytes)),
  readbackBytes: Math.max(...moved.map((m) => m.readbackBytes)),
});

try {
  const t0 = performance.now();
  const model = openStableDiffusion(writeDiffusersFolder(join(root, 'sd'), configs, sdWeights(configs, fastRandomFill(1))));
  const setupMs = performance.now() - t0;
  const cacheDir = join(root, 'graphs');
  const weights = new WeightPool();
  const side = configs.unet.sampleSize * vaeFactor(model);

  // 1. Sampling: the step times after the first (warm-up), and what crosses per step besides the preview's latents
  const stamps: number[] = [];
  const moved: TransferCounts[] = [];
  let mark = transferTotals();
  const settings = defaultSettings(model, { prompt: 'a photo of a dog', steps: sampleSteps, width: side, height: side });
  const sampling = await peakDeviceMemory(() =>
    generateImages(model, settings, {
      provider,
      dtype,
      cacheDir,
      weights,
      onProgress: () => {
        stamps.push(performance.now());
        moved.push(transfersSince(mark));
        mark = transferTotals();
      },
    }),
  );
  const stepMs = median(stamps.slice(1).map((t, i) => t - stamps[i]!));
  const latentBytes = 4 * configs.unet.inChannels * configs.unet.sampleSize ** 2;

  // 2. Training: Stage I and Stage II steps at batch 4 on a synthetic photo
  const tok = ClipTokenizer.fromMergesFile(BUNDLED_MERGES);
  const s = configs.unet.sampleSize;
  const r = new SeededRandom(5);
  const concept = tok.encode('* dog', ['*']);
  const example: ConceptExample = {
    x0: r.normalArray(4 * s * s),
    mask: Float32Array.from({ length: s * s }, (_, i) => (Math.abs((i % s) - s / 2) < s / 4 && Math.abs(Math.floor(i / s) - s / 2) < s / 4 ? 1 : 0)),
    pixels: r.normalArray(3 * vision.imageSize ** 2),
    idsConcept: concept.ids,
    idsClass: tok.encode('dog').ids,
    placeholderPosition: concept.placeholders[0]!.position,
  };
  const models = { unet: model.unet, textEncoder: model.textEncoder, vision: { config: vision, source: new RandomSource(3) }, mapper: new RandomSource(4) };
  const stages: Record<string, unknown> = {};
  const stepTimes: Record<1 | 2, number> = { 1: NaN, 2: NaN };
  for (const stage of [1, 2] as const) {
    const { result, peakBytes } = await peakDeviceMemory(async () => {
      const trainer = await CheckpointedTrainer.create({
        build: (g) => buildSingleInsertStep(g, models, { batch, latent: [s, s] }, { stage, loraRank: 4, trainVision: true, dtype }),
        optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
        provider,
        cacheDir,
        weights,
        ...(dtype === 'float16' ? { lossScale: { initial: 1024 } } : {}),
      });
      const rng = new SeededRandom(7);
      const times: number[] = [];
      const bytes: TransferCounts[] = [];
      for (let i = 0; i < trainSteps; i++) {
        const feeds = stepFeeds(example, { batch, latent: [s, s] }, rng, scaledLinearSchedule());
        const [start, before] = [performance.now(), transferTotals()];
        await trainer.step([feeds], 1e-4);
        times.push(performance.now() - start);
        bytes.push(transfersSince(before));
      }
      const plan = trainer.plan;
      await trainer.release();
      return { times, bytes, plan };
    });
    stepTimes[stage] = median(result.times.slice(1));
    stages[`stage${stage}`] = {
      stepMs: Math.round(stepTimes[stage]),
      firstStepMs: Math.round(result.times[0]!),
      peakDeviceBytes: peakBytes,
      // the schedule's own figure for the step's activations (memory-timeline.ts), to set beside the measured peak
      estimatedActivationBytes: result.plan.activationBytes,
      transfersPerStepAfterFirst: perStep(result.bytes.slice(1)),
      segments: result.plan.segments,
    };
  }
  weights.clear();

  console.log(
    JSON.stringify(
      {
        target: tiny ? 'tiny' : 'sd15',
        provider,
        dtype,
        fallback: sampling.result.fallback,
        setupMs: Math.round(setupMs),
        sampling: {
          size: `${side}×${side}`,
          steps: sampleSteps,
          guidanceBatch: 2,
          stepMs: Math.round(stepMs * 10) / 10,
          itPerS: Math.round((1000 / stepMs) * 100) / 100,
          peakDeviceBytes: sampling.peakBytes,
          transfersPerStepAfterFirst: perStep(moved.slice(1)),
          previewLatentBytes: latentBytes,
        },
        ...stages,
        projectedFaithfulMinutes: Math.round(((50 * stepTimes[1] + 100 * stepTimes[2]) / 60000) * 10) / 10,
        peakDeviceMemory:
          sampling.peakBytes === null ? 'not known: device memory is read through NVML, on NVIDIA only' : 'NVML, above the memory in use before',
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
