// The one compose service: a composition (prompt, concepts at their placeholders, regions, settings)
// and a model → images in the library, each linked to its concepts and carrying its composition, so
// it can be drawn again to the byte. The CLI runs it in its process, the app on a worker thread.
import { boxInPixels, type Composition, promptWithView } from '../../../src-preload/contract/compose.js';
import sharp from 'sharp';
import { AppError } from '../../common/app-error.js';
import type { ProviderChoice } from '../../../src-preload/contract/common.js';
import { chooseDevice, describeDevice } from '../../system/device-choice.js';
import type { GenerationRow, Library } from '../../library/library.js';
import { resolveModelPath } from '../../model-manager/resolve-model.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { readConceptFile } from './concept-file.js';
import { defaultSettings, generateImages, type GenerateSettings, vaeFactor } from './generate.js';
import { latentPreview } from './latent-preview.js';
import { installedTaesd, noTaesdError, taesdPreviewer } from './taesd-decoder.js';
import { sessionLoader } from './sessions.js';
import { prepareStart } from './start-image.js';
import { computePrecision } from '../../system/compute-precision.js';

export interface ComposeRequest {
  /** The SD 1.x model: an installed model's id or name, or a path. */
  model: string;
  composition: Composition;
  /** `auto`: the best usable GPU, else the CPU (said in a note). */
  provider: ProviderChoice;
}

export interface ComposeProgress {
  step: number;
  total: number;
  etaMs: number;
  /** The first image's latents as a PNG: through TAESD where it is installed, else a cheap linear look (no VAE). */
  preview: () => Promise<Buffer>;
}

export interface ComposeHooks {
  signal?: AbortSignal;
  onProgress?: (p: ComposeProgress) => void;
  /** Things the person should know that do not stop the work (a concept from another base model, overlapping regions). */
  onNote?: (note: string) => void;
}

export interface ComposeResult {
  generations: GenerationRow[];
  settings: GenerateSettings;
  fallback: string | null;
}

export async function composeImages(library: Library, request: ComposeRequest, hooks: ComposeHooks = {}): Promise<ComposeResult> {
  const c = request.composition;
  const { path, modelId } = resolveModelPath(library.dataDir, request.model);
  const model = openStableDiffusion(path);
  // a view is said the way the first concept's kind of subject is usually described
  const firstClass = c.concepts[0] ? library.concepts.get(c.concepts[0].conceptId).classWord : undefined;
  const device = await chooseDevice(request.provider, library.preferences.get().provider);
  hooks.onNote?.(describeDevice(device));
  const factor = vaeFactor(model);
  // img2img: the start image sets the size (unless one is asked for), cropped to fill it
  const start = c.start
    ? await prepareStart(
        library,
        model,
        c.start,
        { base: model.unet.config.sampleSize * factor, multiple: factor * 8, factor, width: c.width, height: c.height },
        sessionLoader({ provider: device.provider, cacheDir: library.graphCacheDir() }),
        computePrecision(device.provider).dtype,
      )
    : null;
  const settings = defaultSettings(model, {
    prompt: promptWithView(c.prompt, c.view, firstClass),
    negative: c.negative,
    sampler: c.sampler,
    karras: c.karras,
    guidance: c.guidance,
    steps: c.steps,
    seed: c.seed,
    count: c.count,
    ...(c.width ? { width: c.width } : {}),
    ...(c.height ? { height: c.height } : {}),
    ...(start ? { width: start.width, height: start.height, strength: c.start!.strength } : {}),
  });
  const concepts = c.concepts.map((x) => {
    const record = library.concepts.get(x.conceptId);
    if (record.baseModelId && modelId && record.baseModelId !== modelId) {
      const learnedOn = library.models.list().find((m) => m.id === record.baseModelId)?.name ?? record.baseModelId;
      hooks.onNote?.(`${x.placeholder} "${record.name}" was learned on ${learnedOn}, not on ${model.label}; its LoRA may not fit this model.`);
    }
    return { placeholder: x.placeholder, concept: readConceptFile(library.concepts.filePath(x.conceptId), x.conceptId), scale: x.scale, useToken: x.useToken };
  });
  const [h, w, channels] = [settings.height / factor, settings.width / factor, model.unet.config.inChannels];
  // TAESD, where installed, draws the previews; the final images too when the composition asks for it
  const taesdNotes: string[] = [];
  const taesd = installedTaesd(library, model, taesdNotes)?.model ?? null;
  taesdNotes.forEach((n) => hooks.onNote?.(n));
  if (c.decoder === 'taesd' && !taesd) throw noTaesdError();
  const previewer = taesd && hooks.onProgress ? taesdPreviewer(model, taesd, { provider: device.provider, cacheDir: library.graphCacheDir() }) : null;
  const preview = (latents: Float32Array) => (previewer ? previewer.preview(latents, h, w) : latentPreview(latents, h, w));
  const { images, fallback, notes } = await generateImages(model, settings, {
    ...(start ? { init: { latents: start.latents, pixels: start.pixels } } : {}),
    ...(start?.inpaint ? { inpaint: start.inpaint } : {}),
    ...(c.decoder === 'taesd' && taesd ? { taesd } : {}),
    concepts,
    provenance: {
      concepts: c.concepts.map((x) => {
        const record = library.concepts.get(x.conceptId);
        return { placeholder: x.placeholder, conceptId: x.conceptId, name: record.name, classWord: record.classWord, scale: x.scale, useToken: x.useToken };
      }),
      regions: c.regions.map((r) => ({ placeholder: r.placeholder, box: 'box' in r ? r.box : null })),
      view: c.view,
      composition: c,
    },
    regions: await Promise.all(
      c.regions.map(async (r) =>
        'box' in r
          ? { placeholder: r.placeholder, box: boxInPixels(r.box, settings.width, settings.height) }
          : { placeholder: r.placeholder, mask: await paintedMask(r.paint, settings.width, settings.height) },
      ),
    ),
    provider: device.provider,
    cacheDir: library.graphCacheDir(),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.onProgress
      ? {
          onProgress: (p) => hooks.onProgress!({ step: p.step, total: p.total, etaMs: p.etaMs, preview: () => preview(p.latents.slice(0, channels * h * w)) }),
        }
      : {}),
  }).finally(() => previewer?.release());
  for (const note of notes) hooks.onNote?.(note);
  const generations: GenerationRow[] = [];
  for (const image of images) {
    generations.push(
      await library.generations.add({
        prompt: settings.prompt,
        negative: settings.negative,
        // the composition that draws this one image again (its own seed, count 1)
        settings: { ...settings, seed: image.seed, count: 1, model: model.label, modelRef: request.model, composition: { ...c, seed: image.seed, count: 1 } },
        modelId,
        png: image.png,
        concepts: c.concepts.map((x) => ({ conceptId: x.conceptId, placeholder: x.placeholder, scale: x.scale })),
      }),
    );
  }
  return { generations, settings, fallback };
}

/** A painted region (PNG data URL, opaque where painted) as a mask of the image's size. */
async function paintedMask(dataUrl: string, width: number, height: number): Promise<{ width: number; height: number; data: Uint8Array }> {
  try {
    const png = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    const alpha = await sharp(png).ensureAlpha().resize(width, height, { fit: 'fill', kernel: 'nearest' }).extractChannel(3).raw().toBuffer();
    return { width, height, data: new Uint8Array(alpha) };
  } catch (err) {
    throw new AppError('invalid-input', `A painted region could not be read as an image (${(err as Error).message}); paint it again.`);
  }
}
