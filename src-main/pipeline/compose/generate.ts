// Text (and concepts, and where they go) → images with a Stable Diffusion 1.x model, in four steps:
// prompt encoding (prompt.ts), starting noise (latents.ts), denoising (denoise.ts), decoding (decode.ts).
import { AppError } from '../../common/app-error.js';
import type { FloatDType } from '../../graph/dtype.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import type { WeightPool } from '../../graph/runtime/weight-pool.js';
import { frozenLora } from '../../models/lora.js';
import { createSampler, type SamplerName } from '../../schedulers/sampler.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import type { TaesdModel } from '../../weights/taesd-files.js';
import type { Composition } from '../../../src-preload/contract/compose.js';
import { withPngText } from '../sample/png-metadata.js';
import { decodeImages, toPng } from './decode.js';
import { denoise, type DenoiseProgress } from './denoise.js';
import { initialLatents, stepNoise } from './latents.js';
import { encodePrompt, type PromptConcept } from './prompt.js';
import { type ConceptRegion, latentCoverage, overlapNote, regionFeeds } from './regions.js';
import { sessionLoader } from './sessions.js';
import { unguided } from './guidance.js';
import { storageBindingLimitBytes } from '../../system/gpu-adapters.js';
import { computePrecision } from '../../system/compute-precision.js';
import { refuseInpaintingUNet } from '../../weights/check-architecture.js';

export interface GenerateSettings {
  prompt: string;
  negative: string;
  steps: number;
  guidance: number;
  seed: number;
  count: number;
  sampler: SamplerName;
  /** Karras σ spacing (σ-space samplers). */
  karras: boolean;
  width: number;
  height: number;
  /** img2img: how much of the schedule redraws the start image (1, or absent: all of it, from noise). */
  strength?: number;
}

export type GenerateProgress = DenoiseProgress;

export interface GeneratedImage {
  png: Buffer;
  seed: number;
}

/** How many pixels one latent covers: 8 for SD (4 VAE levels). */
export const vaeFactor = (model: StableDiffusionModel) => 2 ** (model.vae.config.blockOutChannels.length - 1);

export function defaultSettings(model: StableDiffusionModel, partial: Partial<GenerateSettings> & { prompt: string }): GenerateSettings {
  const size = model.unet.config.sampleSize * vaeFactor(model);
  return { negative: '', steps: 50, guidance: 7.5, seed: 0, count: 1, sampler: 'ddim', karras: false, width: size, height: size, ...partial };
}

export async function generateImages(
  model: StableDiffusionModel,
  settings: GenerateSettings,
  options: {
    provider?: ExecutionProvider;
    /** Compute type; by default float16 on a GPU that computes in it, else float32 (computePrecision). */
    dtype?: FloatDType;
    /** Where compiled graphs go; needed for weights read from files. */
    cacheDir?: string;
    signal?: AbortSignal;
    onProgress?: (p: GenerateProgress) => void;
    /** Learned concepts, each behind its placeholder word ("*", "*2"…): its token in the prompt, its LoRA added. */
    concepts?: readonly PromptConcept[];
    /** Where concepts go: each one with a region acts only inside it; the others act everywhere. */
    regions?: readonly ConceptRegion[];
    /**
     * Weights already held (a training run's): the sessions read them from here instead of loading their
     * own copy, and take LoRA values as inputs (a LoRA under training changes, its graph does not).
     */
    weights?: WeightPool;
    /** Where the image came from (the concepts by name, their strengths, the regions, the view), written into each PNG. */
    provenance?: Provenance;
    /** Decode the final images with TAESD instead of the VAE (a draft: quicker, a little softer). */
    taesd?: TaesdModel;
    /**
     * img2img: the start image's latents [channels, h, w] (the VAE's mean, × its scaling factor), noised to the first
     * step `settings.strength` runs; each image's noise still comes from its seed.
     */
    init?: { latents: Float32Array; pixels: Float32Array };
    /**
     * Inpainting (with `init`, whose pixels [3, H, W] in [−1, 1] it blends back): where to redraw, in latents [h, w]
     * (1 redrawn; soft at the edge), and in pixels, feathered [H, W].
     */
    inpaint?: { latentMask: Float32Array; pixelMask: Float32Array };
  } = {},
): Promise<{ images: GeneratedImage[]; fallback: string | null; notes: string[] }> {
  const provider = options.provider ?? 'cpu';
  const precision = options.dtype ? null : computePrecision(provider);
  const dtype: FloatDType = options.dtype ?? precision!.dtype;
  const factor = vaeFactor(model);
  if (settings.width % (factor * 8) !== 0 || settings.height % (factor * 8) !== 0) {
    throw new AppError('invalid-input', `Width and height must be multiples of ${factor * 8} (got ${settings.width}×${settings.height}).`);
  }
  if (!settings.prompt.trim()) throw new AppError('invalid-input', 'The prompt is empty; say what the image shows.');
  const [h, w] = [settings.height / factor, settings.width / factor];
  refuseInpaintingUNet(model);
  const channels = model.unet.config.inChannels;
  // img2img at strength 0 redraws nothing: the start image itself, with its settings written in
  if (options.init && settings.strength === 0) {
    const png = await toPng(options.init.pixels, settings.width, settings.height);
    const images = Array.from({ length: settings.count }, (_, i) => ({
      png: withPngText(png, pngParameters(settings, settings.seed + i, model.label, options.provenance)),
      seed: settings.seed + i,
    }));
    return { images, fallback: null, notes: ['Strength 0 redraws nothing: the image is the start image as it was.'] };
  }
  const load = sessionLoader({
    provider,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.weights ? { weights: options.weights } : {}),
  });
  const concepts = options.concepts ?? [];
  const adapters = concepts.map((c) => frozenLora(c.placeholder, c.concept.lora, c.scale ?? 1));
  const notes: string[] = [];
  if (precision && provider !== 'cpu') notes.push(`Computes in ${precision.reason}.`);

  // 1. Prompt → hidden states, each concept's token in place; which tokens each concept owns
  const encoded = await encodePrompt(model, { prompt: settings.prompt, negative: settings.negative, concepts, adapters }, load, dtype);

  // 2. Regions → the UNet's masks at each level (concepts without one act everywhere)
  const regions = options.regions ?? [];
  for (const r of regions) {
    if (!concepts.some((c) => c.placeholder === r.placeholder))
      throw new AppError('invalid-input', `A region is given for ${r.placeholder}, but no concept is placed at ${r.placeholder}.`);
  }
  const placed = regions.map((r) => ({
    r,
    cover: latentCoverage(r, settings.width, settings.height, factor),
    owned: encoded.owned[concepts.findIndex((c) => c.placeholder === r.placeholder)]!,
  }));
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const note = overlapNote(placed[i]!.r.placeholder, placed[i]!.cover, placed[j]!.r.placeholder, placed[j]!.cover);
      if (note) notes.push(note);
    }
  }
  const n = settings.count;
  const levels = model.unet.config.blockOutChannels.length;
  const regional = placed.length
    ? {
        labels: placed.map((p) => p.r.placeholder),
        feeds: regionFeeds(
          placed.map((p) => p.cover),
          placed.map((p) => p.owned),
          h,
          w,
          levels,
          unguided(settings.guidance) ? n : 2 * n,
          !unguided(settings.guidance),
        ),
      }
    : null;

  // 3. Seeded noise (image i from seed + i) → denoised latents
  const strength = options.init ? (settings.strength ?? 1) : 1;
  const sampler = createSampler(settings.sampler, settings.steps, undefined, { karras: settings.karras, strength });
  // img2img: the start latents at the first step's noise level; inpainting puts its kept part back with the same noise
  const startNoise = options.init ? initialLatents(settings.seed, n, channels * h * w, 1) : null;
  const start =
    options.init && startNoise
      ? startFromImage(options.init.latents, sampler.noiseLevel(0), startNoise)
      : initialLatents(settings.seed, n, channels * h * w, sampler.initNoiseSigma);
  const { latents, fallback } = await denoise(
    model,
    sampler,
    {
      hidden: encoded.hidden,
      latents: start,
      count: n,
      latentShape: [channels, h, w],
      guidance: settings.guidance,
      adapters,
      regions: regional,
      ...(sampler.stochastic ? { stepNoise: stepNoise(settings.seed, n, channels * h * w) } : {}),
      ...(options.init && options.inpaint && startNoise
        ? { keep: { mask: repeat(options.inpaint.latentMask, n), latents: repeat(options.init.latents, n), noise: startNoise } }
        : {}),
    },
    load,
    dtype,
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      lean: options.weights !== undefined,
      // WebGPU binds no buffer over its limit: SD 1.5's self-attention scores at 512² are 1 GiB in float32
      ...(provider === 'webgpu' ? { scoreLimit: Math.floor(storageBindingLimitBytes() / 4) } : {}),
    },
  );

  // weights holding NaN or infinities draw nothing: say so rather than write black images
  if (latents.some((v) => !Number.isFinite(v))) {
    throw new AppError('corrupt-file', `${model.label} drew non-numbers (NaN): its weights hold NaN or infinite values. Download the model again.`);
  }

  // 4. Decode, each PNG carrying its settings
  const pngs = await decodeImages(
    model,
    latents,
    { count: n, channels, h, w, width: settings.width, height: settings.height },
    load,
    dtype,
    (i) => pngParameters(settings, settings.seed + i, model.label, options.provenance),
    options.taesd,
    options.init && options.inpaint ? blendInto(options.init.pixels, options.inpaint.pixelMask) : undefined,
  );
  return { images: pngs.map((png, i) => ({ png, seed: settings.seed + i })), fallback, notes };
}

const repeat = (values: Float32Array, times: number) => {
  const out = new Float32Array(values.length * times);
  for (let i = 0; i < times; i++) out.set(values, i * values.length);
  return out;
};

/** Inpainting's last step: the drawn pixels inside the (feathered) mask, the start image's outside. */
const blendInto = (original: Float32Array, mask: Float32Array) => (drawn: Float32Array) => {
  const plane = mask.length;
  return drawn.map((v, j) => {
    const m = mask[j % plane]!;
    return m * v + (1 - m) * original[j]!;
  });
};

/** img2img's first x for each image: signal·x0 + noise·ε, ε each image's seeded noise. */
function startFromImage(init: Float32Array, level: { signal: number; noise: number }, noise: Float32Array): Float32Array {
  return noise.map((e, j) => level.signal * init[j % init.length]! + level.noise * e);
}

/** What made an image beyond its settings: each concept as the person named it, with its strength, and where it went. */
export interface Provenance {
  concepts: ReadonlyArray<{ placeholder: string; conceptId: string; name: string; classWord: string; scale: number; useToken: boolean }>;
  regions: ReadonlyArray<{ placeholder: string; box: readonly [number, number, number, number] | null }>;
  view: string | null;
  /** The composition that draws the image again (its own seed), for Compose to reopen. */
  composition?: unknown;
}

/** JSON with every character past ASCII escaped: a tEXt chunk is Latin-1, and the escapes keep names exact. */
const asciiJson = (value: unknown) => JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A1111's "parameters" text, which other tools read (with the concepts and regions as extra fields), plus our own JSON. */
function pngParameters(s: GenerateSettings, seed: number, model: string, provenance?: Provenance): Record<string, string> {
  const extra: string[] = [];
  if (provenance?.concepts.length)
    extra.push(
      `SingleInsert concepts: "${provenance.concepts.map((c) => `${c.placeholder} ${c.name} (${c.classWord}) x${c.scale}${c.useToken ? '' : ', LoRA only'}`).join('; ')}"`,
    );
  if (provenance?.regions.length)
    extra.push(`Regions: "${provenance.regions.map((r) => `${r.placeholder} ${r.box ? `box ${r.box.join(' ')}` : 'painted'}`).join('; ')}"`);
  if (provenance?.view) extra.push(`View: ${provenance.view}`);
  if (s.strength !== undefined && s.strength < 1) extra.push(`Denoising strength: ${s.strength}`);
  const start = provenance?.composition && typeof provenance.composition === 'object' ? (provenance.composition as Composition).start : null;
  if (start)
    extra.push(
      `Start image: ${start.imageId}${start.inpaint || start.mask ? `, Inpaint: ${start.mask ?? 'painted'}${start.invert ? ' (outside)' : ''}, Mask blur: ${start.feather}` : ''}`,
    );
  const a1111 = `${s.prompt}\nNegative prompt: ${s.negative}\nSteps: ${s.steps}, Sampler: ${s.sampler}${s.karras ? ', Schedule type: Karras' : ''}, CFG scale: ${s.guidance}, Seed: ${seed}, Size: ${s.width}x${s.height}, Model: ${model}${extra.map((e) => `, ${e}`).join('')}`;
  const composition = provenance?.composition && typeof provenance.composition === 'object' ? { ...provenance.composition, seed, count: 1 } : undefined;
  return {
    parameters: a1111,
    singleinsert: asciiJson({
      ...s,
      seed,
      count: 1,
      model,
      ...(provenance ? { concepts: provenance.concepts, regions: provenance.regions, view: provenance.view, composition } : {}),
    }),
  };
}
