import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  composition,
  type CompositionInput,
  DECODERS,
  draftNeedText,
  DRAFT_PRESET,
  isLcmLora,
  LORA_STRENGTH,
  NOVEL_VIEWS,
  regionBox,
  SAMPLERS,
} from '../../../src-preload/contract/compose.js';
import { MAX_SEED, PROVIDER_CHOICES, type ProviderChoice } from '../../../src-preload/contract/common.js';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import { composeImages } from '../../pipeline/compose/compose-service.js';
import type { Command } from '../command.js';
import { intOption, UsageError, withLibrary } from '../command.js';

/** Whole-number options of a composition, with their ranges (the schema checks them again). */
const INT_FLAGS = { steps: [1, 1000], seed: [0, MAX_SEED], count: [1, 64], width: [16, 4096], height: [16, 4096] } as const;

/** "*2=x0,y0,x1,y1" (fractions of the canvas or pixels) → a composition region. */
function parseRegion(arg: string): { placeholder: string; box: [number, number, number, number] } {
  const m = /^(\*\d*)=(.+)$/.exec(arg);
  if (!m) throw new UsageError(`--region takes "*N=x0,y0,x1,y1" (fractions of the image or pixels), got "${arg}"`);
  const box = regionBox.safeParse(m[2]!.split(',').map(Number));
  if (!box.success) throw new UsageError(`--region ${arg}: ${box.error.issues[0]!.message}`);
  return { placeholder: m[1]!, box: box.data };
}

/**
 * --preset draft: LCM's settings (under the flags, over the --composition file), TAESD's decode where installed, and
 * the LCM-LoRA (the library's style concept, see isLcmLora) at the next free placeholder. Without one it stops,
 * saying what to add and where.
 */
function draftPreset(library: Library, note: (line: string) => void) {
  const lcm = library.concepts.list().find((c) => c.status === 'ready' && isLcmLora(c));
  if (!lcm) throw new AppError('unavailable', `--preset draft needs ${draftNeedText('lcmLora', 'cli')}.`);
  const taesd = library.models.list().some((m) => m.family === 'taesd');
  if (!taesd) note(`without TAESD the draft is decoded by the VAE; for a quicker decode, add ${draftNeedText('taesd', 'cli')}.`);
  return {
    settings: { sampler: DRAFT_PRESET.sampler, steps: DRAFT_PRESET.steps, guidance: DRAFT_PRESET.guidance, karras: false, decoder: taesd ? 'taesd' : 'vae' },
    addLora(concepts: Array<{ placeholder: string; conceptId: string }>) {
      if (concepts.some((c) => c.conceptId === lcm.id)) return concepts;
      let n = 1;
      while (concepts.some((c) => c.placeholder === (n === 1 ? '*' : `*${n}`))) n++;
      return [...concepts, { placeholder: n === 1 ? '*' : `*${n}`, conceptId: lcm.id }];
    },
  };
}

/** The composition the flags describe, over the preset's and the --composition file's when given. */
function compositionFrom(values: Record<string, unknown>, library: Library, note: (line: string) => void) {
  const raw: Record<string, unknown> = values.composition ? (JSON.parse(readFileSync(String(values.composition), 'utf8')) as Record<string, unknown>) : {};
  if (values.preset !== undefined && values.preset !== 'draft') throw new UsageError(`--preset must be draft, got "${String(values.preset)}"`);
  const preset = values.preset === 'draft' ? draftPreset(library, note) : null;
  if (preset) Object.assign(raw, preset.settings);
  if (values.prompt !== undefined) raw.prompt = values.prompt;
  if (values.negative !== undefined) raw.negative = values.negative;
  if (values.sampler !== undefined) raw.sampler = values.sampler;
  if (values.decoder !== undefined) raw.decoder = values.decoder;
  if (values.view !== undefined) raw.view = values.view;
  for (const [flag, [min, max]] of Object.entries(INT_FLAGS)) {
    const n = intOption(values, flag, min, max);
    if (n !== undefined) raw[flag] = n;
  }
  if (values.guidance !== undefined) {
    const guidance = Number(values.guidance);
    if (!Number.isFinite(guidance) || guidance < 0 || guidance > 50) throw new UsageError('--guidance must be a number from 0 to 50');
    raw.guidance = guidance;
  }
  // --concept con_a --concept *2=con_b: the first goes to "*", the next to "*2", unless named
  const concepts = (values.concept as string[] | undefined) ?? [];
  if (concepts.length) {
    raw.concepts = concepts.map((arg, i) => {
      const m = /^(\*\d*)=(.+)$/.exec(arg);
      return { placeholder: m ? m[1]! : i === 0 ? '*' : `*${i + 1}`, conceptId: m ? m[2]! : arg };
    });
  }
  if (preset) raw.concepts = preset.addLora((raw.concepts ?? []) as Array<{ placeholder: string; conceptId: string }>);
  // --strength *2=0.8 and --no-token *2 adjust the concepts placed above (or in the file)
  const chosen = (raw.concepts ?? []) as Array<Record<string, unknown>>;
  const at = (placeholder: string, flag: string) => {
    const c = chosen.find((x) => x.placeholder === placeholder);
    if (!c) throw new UsageError(`${flag} ${placeholder}: no concept is placed at ${placeholder}`);
    return c;
  };
  for (const arg of (values.strength as string[] | undefined) ?? []) {
    const m = /^(\*\d*)=(-?[\d.]+)$/.exec(arg);
    if (!m) throw new UsageError(`--strength takes "*N=0.8" (or "*N=-0.5" to subtract a LoRA), got "${arg}"`);
    at(m[1]!, '--strength').scale = Number(m[2]);
  }
  for (const placeholder of (values['no-token'] as string[] | undefined) ?? []) at(placeholder, '--no-token').useToken = false;
  if (values.karras === true) raw.karras = true;
  const regions = (values.region as string[] | undefined) ?? [];
  if (regions.length) raw.regions = regions.map(parseRegion);
  // img2img: --start img_…|gen_… [--denoise 0.6] [--inpaint mask.png [--feather 8]]
  if (values.start !== undefined) {
    const startOf = (raw.start ?? {}) as Record<string, unknown>;
    raw.start = { ...startOf, imageId: String(values.start) };
  }
  if (values.denoise !== undefined || values.inpaint !== undefined || values.feather !== undefined || values.invert === true) {
    if (!raw.start) throw new UsageError('--denoise, --inpaint, --invert and --feather go with --start <image id> (the photo or Gallery image to draw over)');
    const st = raw.start as Record<string, unknown>;
    if (values.denoise !== undefined) {
      const d = Number(values.denoise);
      if (!(d >= 0 && d <= 1)) throw new UsageError('--denoise must be from 0 to 1 (how much of the start image is redrawn; 0 none of it)');
      st.strength = d;
    }
    // a saved mask of the start photo (msk_…), or a PNG file
    if (values.inpaint !== undefined) {
      const inpaint = String(values.inpaint);
      if (/^msk_[0-9a-z]+$/.test(inpaint)) st.mask = inpaint;
      else st.inpaint = `data:image/png;base64,${readFileSync(inpaint).toString('base64')}`;
    }
    if (values.invert === true) st.invert = true;
    const feather = intOption(values, 'feather', 0, 64);
    if (feather !== undefined) st.feather = feather;
  }
  raw.seed ??= randomInt(MAX_SEED);
  const parsed = composition.safeParse(raw as CompositionInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

export const generateCommand: Command = {
  name: 'generate',
  summary:
    'Generate images with a Stable Diffusion 1.x model (diffusers folder, single .safetensors file, or installed model id/name), ' +
    'with learned concepts at *, *2… (--concept), each confined to a region of the image if given one (--region), ' +
    `seen from a view (--view ${Object.keys(NOVEL_VIEWS).join('|')}); --composition reads all of it from a JSON file (flags override it).`,
  usage:
    `generate --model <dir|file|model> --prompt "…" [--negative "…"] [--steps 50] [--guidance 7.5] [--seed N] [--count 1] [--sampler ${SAMPLERS.join('|')}] [--decoder ${DECODERS.join('|')}] ` +
    `[--karras] [--width W --height H] [--provider ${PROVIDER_CHOICES.join('|')}] [--concept [*N=]con_id]… [--strength "*N=0.8"]… [--no-token *N]… [--region "*N=x0,y0,x1,y1"]… ` +
    '[--view side] [--composition file.json] [--out dir]',
  options: {
    model: {
      type: 'string',
      value: '<dir|file|model>',
      description: "The SD 1.x model: a diffusers folder, a single .safetensors file, or an installed model's id or name.",
    },
    prompt: { type: 'string', value: '"…"', description: 'What to draw; * and *2… stand for the concepts given with --concept.' },
    negative: { type: 'string', value: '"…"', description: 'What to keep out of the image.', default: 'none' },
    steps: { type: 'string', value: '<n>', description: 'Sampling steps (1–1000).', default: '50' },
    guidance: { type: 'string', value: '<scale>', description: 'Classifier-free guidance scale: how closely the image follows the prompt.', default: '7.5' },
    seed: { type: 'string', value: '<n>', description: 'The starting noise; the same seed and settings draw the same image.', default: 'random, printed' },
    count: { type: 'string', value: '<n>', description: 'How many images to draw (seeds seed, seed+1…).', default: '1' },
    sampler: {
      type: 'string',
      value: SAMPLERS.join('|'),
      description: 'The sampling method (lcm and tcd: 4–8 steps, for a model or LoRA distilled for them).',
      default: 'ddim',
    },
    start: { type: 'string', value: 'img_…|gen_…', description: 'Draw over this library photo or Gallery image (img2img) instead of from noise.' },
    denoise: { type: 'string', value: '0.6', description: 'With --start: how much of it is redrawn (0 to 1; 1 all of it, 0 none).', default: '0.6' },
    inpaint: {
      type: 'string',
      value: 'mask.png|msk_…',
      description: "With --start: redraw only where this PNG is opaque (any size; scaled to the image), or inside one of the start photo's saved masks.",
    },
    invert: { type: 'boolean', description: 'With --inpaint: redraw outside the mask instead (keep the subject, change the scene).' },
    feather: { type: 'string', value: 'px', description: 'With --inpaint: how soft the blend back into the start image is.', default: '8' },
    preset: {
      type: 'string',
      value: 'draft',
      description: `Draft (LCM): the library's LCM-LoRA with LCM, ${DRAFT_PRESET.steps} steps, guidance ${DRAFT_PRESET.guidance} and TAESD's decode; flags given with it override its settings.`,
    },
    decoder: {
      type: 'string',
      value: DECODERS.join('|'),
      description: 'What turns latents into pixels: the VAE, or TAESD for a quick draft (installed with `models add`).',
      default: 'vae',
    },
    width: { type: 'string', value: '<px>', description: 'Image width, a multiple of 64.', default: '512' },
    height: { type: 'string', value: '<px>', description: 'Image height, a multiple of 64.', default: '512' },
    provider: {
      type: 'string',
      value: PROVIDER_CHOICES.join('|'),
      description: 'Where to run: the best usable GPU (auto, said in a note), the CPU, or a GPU through WebGPU or CUDA.',
      default: 'auto',
    },
    out: {
      type: 'string',
      value: '<folder>',
      description: 'Also write the PNG files into this folder (made if missing); they are always kept in the library.',
    },
    concept: { type: 'string', multiple: true, value: '[*N=]con_id', description: 'A concept from the library for * (or *2, *3…).' },
    region: { type: 'string', multiple: true, value: '"*N=x0,y0,x1,y1"', description: 'Confine a concept to a box of the image, in fractions 0–1.' },
    strength: {
      type: 'string',
      multiple: true,
      value: '"*N=0.8"',
      description: `How strongly a concept's LoRA acts (${LORA_STRENGTH.min} to ${LORA_STRENGTH.max}; 1 as learned, negative subtracts it).`,
      default: '1',
    },
    'no-token': { type: 'string', multiple: true, value: '*N', description: "Use a concept's LoRA without its token." },
    karras: { type: 'boolean', description: 'Karras σ spacing (Euler and DPM-Solver++(2M) only).' },
    view: { type: 'string', value: Object.keys(NOVEL_VIEWS).join('|'), description: 'Draw the subject seen from this side.' },
    composition: {
      type: 'string',
      value: '<file.json>',
      description: 'Read prompt, concepts, regions and settings from a saved composition (flags override it).',
    },
  },
  examples: [
    'singleinsert generate --model sd15 --prompt "a photo of a dog on a beach" --seed 7',
    'singleinsert generate --model sd15 --preset draft --concept con_1a2b3c4d --prompt "* dog on a beach"',
    'singleinsert generate --model sd15 --start img_1a2b3c4d --inpaint where.png --concept con_5e6f --prompt "a photo of * dog on the lawn"',
    'singleinsert generate --model sd15 --concept con_1a2b3c4d --prompt "* dog as a marble statue" --out renders',
    'singleinsert generate --model sd15 --concept con_1a2b --concept *2=con_5e6f --region "*2=0.5,0,1,1" --prompt "* face with *2 hair"',
  ],
  run: async ({ values, global, io }) => {
    if (!values.model) throw new UsageError('generate needs --model (a diffusers folder or a .safetensors file)');
    if (!values.prompt && !values.composition) throw new UsageError('generate needs --prompt (or a --composition file)');
    const provider = (values.provider ?? 'auto') as ProviderChoice;
    if (!(PROVIDER_CHOICES as readonly string[]).includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
    return withLibrary(global, async (library) => {
      const c = compositionFrom(values, library, (line) => io.err(`Note: ${line}`));
      const { generations, settings, fallback } = await composeImages(
        library,
        { model: String(values.model), composition: c, provider },
        {
          onNote: (note) => io.err(`Note: ${note}`),
          onProgress: (p) => io.err(`step ${p.step}/${p.total} · ETA ${Math.ceil(p.etaMs / 1000)} s`),
        },
      );
      io.err(
        `${settings.count} image(s), ${settings.width}×${settings.height}, ${settings.steps} ${settings.sampler} steps, guidance ${settings.guidance}, seed ${settings.seed}`,
      );
      if (fallback) io.err(fallback);
      // the images are the library's (the Gallery shows them); copies go elsewhere only when asked
      if (values.out === undefined) {
        for (const row of generations) io.out(library.store.pathOf(row.sha256));
        io.err(`Saved ${generations.length} image(s) in the library (${generations.map((g) => g.id).join(', ')}); --out <folder> writes copies.`);
        return 0;
      }
      const outDir = resolve(String(values.out));
      mkdirSync(outDir, { recursive: true });
      for (const [i, row] of generations.entries()) {
        const path = join(outDir, `${row.id}-seed${settings.seed + i}.png`);
        writeFileSync(path, await library.store.read(row.sha256));
        io.out(path);
      }
      return 0;
    });
  },
};
