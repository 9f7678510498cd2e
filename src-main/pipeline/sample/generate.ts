// Text → images with a Stable Diffusion 1.x model: text encoder, sampling loop over the UNet, VAE decode.
import sharp from 'sharp';
import { AppError } from '../../common/app-error.js';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import type { Tensor } from '../../graph/ir.js';
import * as op from '../../graph/ops/index.js';
import { SeededRandom } from '../../graph/random.js';
import type { ExecutionProvider } from '../../graph/runtime/providers.js';
import { ownSession, pooledSession } from '../../graph/runtime/pooled-session.js';
import type { HostTensor } from '../../graph/runtime/session.js';
import { isSharedWeight, type WeightPool } from '../../graph/runtime/weight-pool.js';
import { clipTextEncoder } from '../../models/clip-text.js';
import { weightsFrom } from '../../models/params.js';
import { unet } from '../../models/unet.js';
import { vaeDecode } from '../../models/vae.js';
import { createSampler, guide, type SamplerName } from '../../schedulers/sampler.js';
import type { StableDiffusionModel } from '../../weights/sd-loader.js';
import { frozenLora, isLoraWeight } from '../../models/lora.js';
import type { LoadedConcept } from '../compose/concept-file.js';
import { withPngText } from './png-metadata.js';

export interface GenerateSettings {
  prompt: string;
  negative: string;
  steps: number;
  guidance: number;
  seed: number;
  count: number;
  sampler: SamplerName;
  width: number;
  height: number;
}

export interface GenerateProgress {
  step: number;
  total: number;
  /** Estimated time left, from the mean step time so far. */
  etaMs: number;
}

export interface GeneratedImage {
  png: Buffer;
  seed: number;
}

/** How many pixels one latent covers: 8 for SD (4 VAE levels). */
export const vaeFactor = (model: StableDiffusionModel) => 2 ** (model.vae.config.blockOutChannels.length - 1);

export function defaultSettings(model: StableDiffusionModel, partial: Partial<GenerateSettings> & { prompt: string }): GenerateSettings {
  const size = model.unet.config.sampleSize * vaeFactor(model);
  return { negative: '', steps: 50, guidance: 7.5, seed: 0, count: 1, sampler: 'ddim', width: size, height: size, ...partial };
}

const toDtype = (t: Tensor, dtype: FloatDType) => op.cast(t, dtype);

export async function generateImages(
  model: StableDiffusionModel,
  settings: GenerateSettings,
  options: {
    provider?: ExecutionProvider;
    /** Compute type; by default float16 on GPU providers and float32 on the CPU. */
    dtype?: FloatDType;
    /** Where compiled graphs go; needed for weights read from files. */
    cacheDir?: string;
    signal?: AbortSignal;
    onProgress?: (p: GenerateProgress) => void;
    /** Learned concepts, each behind its placeholder word ("*", "*2"…): its token in the prompt, its LoRA added. */
    concepts?: ReadonlyArray<{ placeholder: string; concept: LoadedConcept; scale?: number }>;
    /**
     * Weights already held (a training run's): the sessions read them from here instead of loading their
     * own copy, and take LoRA values as inputs (a LoRA under training changes, its graph does not).
     */
    weights?: WeightPool;
  } = {},
): Promise<{ images: GeneratedImage[]; fallback: string | null }> {
  const provider = options.provider ?? 'cpu';
  const dtype: FloatDType = options.dtype ?? (provider === 'cpu' ? 'float32' : 'float16');
  const factor = vaeFactor(model);
  if (settings.width % (factor * 8) !== 0 || settings.height % (factor * 8) !== 0) {
    throw new AppError('invalid-input', `Width and height must be multiples of ${factor * 8} (got ${settings.width}×${settings.height}).`);
  }
  const [h, w] = [settings.height / factor, settings.width / factor];
  const n = settings.count;
  const pool = options.weights;
  const load = (g: Graph) =>
    pool ? pooledSession(g, pool, { provider, cacheDir: options.cacheDir, fed: (init) => isSharedWeight(init) || isLoraWeight(init.tensor.name) }) : ownSession(g, { provider, cacheDir: options.cacheDir });
  const text = model.textEncoder.config;
  const channels = model.unet.config.inChannels;

  const concepts = options.concepts ?? [];
  const adapters = concepts.map((c) => frozenLora(c.placeholder, c.concept.lora, c.scale ?? 1));

  // 1. Text: [negative, prompt] → hidden states, with each concept's token at its placeholder
  const tg = new Graph('text_encoder');
  const ids = tg.input('input_ids', 'int64', [2, 77]);
  const p = concepts.length;
  const placeholders = p
    ? { embeds: toDtype(tg.input('placeholder_embeds', 'float32', [2, p, text.hiddenSize]), dtype), mask: toDtype(tg.input('placeholder_mask', 'float32', [2, 77, p]), dtype) }
    : undefined;
  tg.output(op.cast(clipTextEncoder(weightsFrom(tg, model.textEncoder.source, { dtype, adapters }), text, { inputIds: ids, ...(placeholders ? { placeholders } : {}) }), 'float32'), 'hidden');
  const textSession = await load(tg);
  const encoded = model.tokenizer.encode(settings.prompt, concepts.map((c) => c.placeholder));
  const textFeeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', shape: [2, 77], data: BigInt64Array.from([...model.tokenizer.encode(settings.negative).ids, ...encoded.ids].map(BigInt)) },
  };
  if (p) {
    for (const c of concepts) {
      if (c.concept.token.length !== text.hiddenSize) throw new AppError('unsupported-model', `Concept ${c.placeholder} was learned on a model with ${c.concept.token.length}-wide text, this one is ${text.hiddenSize}.`);
      if (!encoded.placeholders.some((e) => e.placeholder === c.placeholder)) throw new AppError('invalid-input', `The prompt does not use ${c.placeholder}; write it where the concept goes ("${c.placeholder} ${c.concept.meta.classWord} …").`);
    }
    const embeds = new Float32Array(2 * p * text.hiddenSize);
    const mask = new Float32Array(2 * 77 * p);
    concepts.forEach((c, j) => {
      embeds.set(c.concept.token, (p + j) * text.hiddenSize); // the prompt row; the negative row stays zero
      for (const at of encoded.placeholders.filter((e) => e.placeholder === c.placeholder)) mask[77 * p + at.position * p + j] = 1;
    });
    textFeeds.placeholder_embeds = f32([2, p, text.hiddenSize], embeds);
    textFeeds.placeholder_mask = f32([2, 77, p], mask);
  }
  const hidden = (await textSession.run(textFeeds)).hidden!;
  await textSession.release();
  const d = text.hiddenSize;
  const perImage = 77 * d;
  const hiddenData = hidden.data as Float32Array;
  const context = new Float32Array(2 * n * perImage);
  for (let i = 0; i < n; i++) {
    context.set(hiddenData.subarray(0, perImage), i * perImage); // unconditional half first
    context.set(hiddenData.subarray(perImage), (n + i) * perImage);
  }

  // 2. UNet over both halves of the guidance batch at once
  const ug = new Graph('unet');
  const sample = ug.input('sample', 'float32', [2 * n, channels, h, w]);
  const timestep = ug.input('timestep', 'float32', [2 * n]);
  const ehs = ug.input('encoder_hidden_states', 'float32', [2 * n, 77, d]);
  const eps = unet(weightsFrom(ug, model.unet.source, { dtype, prefix: 'unet.', adapters }), model.unet.config, {
    sample: toDtype(sample, dtype),
    timestep,
    encoderHiddenStates: toDtype(ehs, dtype),
  });
  ug.output(op.cast(eps, 'float32'), 'eps');
  const unetSession = await load(ug);

  // 3. Sampling loop from seeded noise (image i uses seed + i)
  const sampler = createSampler(settings.sampler, settings.steps);
  const latentSize = channels * h * w;
  let latents: Float32Array = new Float32Array(n * latentSize);
  for (let i = 0; i < n; i++) latents.set(new SeededRandom(settings.seed + i).normalArray(latentSize).map((v) => v * sampler.initNoiseSigma), i * latentSize);
  const started = performance.now();
  for (let s = 0; s < sampler.timesteps.length; s++) {
    if (options.signal?.aborted) throw new AppError('cancelled', `Generation cancelled at step ${s} of ${settings.steps}.`);
    const input = sampler.scaleModelInput(latents, s);
    const doubled = new Float32Array(2 * n * latentSize);
    doubled.set(input, 0);
    doubled.set(input, n * latentSize);
    const out = await unetSession.run({
      sample: f32([2 * n, channels, h, w], doubled),
      timestep: f32([2 * n], new Float32Array(2 * n).fill(sampler.timesteps[s]!)),
      encoder_hidden_states: f32([2 * n, 77, d], context),
    });
    const e = out.eps!.data as Float32Array;
    const guided = guide(e.subarray(0, n * latentSize), e.subarray(n * latentSize), settings.guidance);
    latents = sampler.step(guided, s, latents);
    const elapsed = performance.now() - started;
    options.onProgress?.({ step: s + 1, total: settings.steps, etaMs: (elapsed / (s + 1)) * (settings.steps - s - 1) });
  }
  const fallback = unetSession.fallback;
  await unetSession.release();

  // 4. Decode and encode as PNG with the settings inside
  const vg = new Graph('vae_decoder');
  const lat = vg.input('latents', 'float32', [1, channels, h, w]);
  vg.output(op.cast(vaeDecode(weightsFrom(vg, model.vae.source, { dtype, prefix: 'vae.' }), model.vae.config, toDtype(lat, dtype)), 'float32'), 'image');
  const vaeSession = await load(vg);
  const images: GeneratedImage[] = [];
  for (let i = 0; i < n; i++) {
    const out = await vaeSession.run({ latents: f32([1, channels, h, w], latents.slice(i * latentSize, (i + 1) * latentSize)) });
    const png = await toPng(out.image!.data as Float32Array, settings.width, settings.height);
    images.push({ png: withPngText(png, pngParameters(settings, settings.seed + i, model.label)), seed: settings.seed + i });
  }
  await vaeSession.release();
  return { images, fallback };
}

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

/** [3, H, W] in [−1, 1] → 8-bit RGB PNG. */
async function toPng(chw: Float32Array, width: number, height: number): Promise<Buffer> {
  const plane = width * height;
  const rgb = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, (chw[c * plane + i]! + 1) / 2)) * 255);
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A1111's "parameters" text, which other tools read, plus our own JSON. */
function pngParameters(s: GenerateSettings, seed: number, model: string): Record<string, string> {
  const a1111 = `${s.prompt}\nNegative prompt: ${s.negative}\nSteps: ${s.steps}, Sampler: ${s.sampler}, CFG scale: ${s.guidance}, Seed: ${seed}, Size: ${s.width}x${s.height}, Model: ${model}`;
  return { parameters: a1111, singleinsert: JSON.stringify({ ...s, seed, count: 1, model }) };
}
