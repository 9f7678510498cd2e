// A composition: the prompt with concepts at their placeholders, where each one goes, and the
// sampling settings. One schema for the CLI's --composition files, the Compose screen and the library.
import { z } from 'zod';
import { conceptId, generationId, imageId, seed } from './common.js';
import { describeIssue } from './field-issues.js';

/**
 * The samplers a drawing may use, as diffusers has them: DDIM, Euler, Euler ancestral, DPM-Solver++(2M) and its SDE
 * forms, UniPC, and the few-step LCM and TCD (for a model or LoRA distilled for them).
 */
export const SAMPLERS = ['ddim', 'euler', 'euler_a', 'dpmpp2m', 'dpmpp2m_sde', 'dpmpp_sde', 'unipc', 'lcm', 'tcd'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** How the screens and messages name each sampler (A1111's names). */
export const SAMPLER_LABELS: Record<SamplerName, string> = {
  ddim: 'DDIM',
  euler: 'Euler',
  euler_a: 'Euler a',
  dpmpp2m: 'DPM++ 2M',
  dpmpp2m_sde: 'DPM++ 2M SDE',
  dpmpp_sde: 'DPM++ SDE',
  unipc: 'UniPC',
  lcm: 'LCM',
  tcd: 'TCD',
};

/**
 * "Draft (LCM)": an image in seconds where the full sampler takes minutes. The LCM-LoRA (a style concept) with LCM's
 * sampler, 4 steps and guidance 1 (LCM-LoRA is made for 1–2; at 1 the unconditional half is not drawn at all),
 * decoded by TAESD where installed (else by the VAE).
 */
export const DRAFT_PRESET = { sampler: 'lcm', steps: 4, guidance: 1, decoder: 'taesd' } as const;

/** The library's LCM-LoRA: a style concept tagged `lcm-lora`, or named so ("lcm-lora-sdv1-5", "LCM LoRA"). */
export const isLcmLora = (c: { kind: string; name: string; tags: readonly string[] }) =>
  c.kind === 'style' && (c.tags.includes('lcm-lora') || /(^|[^a-z])lcm([^a-z]|$)/i.test(c.name));

/** What to add for each part of the draft preset, and where: in the app, and from the CLI (the same words everywhere). */
export const DRAFT_NEEDS = {
  lcmLora: {
    what: 'the LCM-LoRA for SD 1.5 (latent-consistency/lcm-lora-sdv1-5)',
    inApp: 'import its .safetensors as a style in Library › Import concept…, or find it with Settings › Models › Scan folder and choose "Use as concept"',
    inCli: '`singleinsert import-concept <file> --name lcm-lora`',
  },
  taesd: {
    what: 'TAESD (madebyollin/taesd, or taesd_decoder.safetensors from A1111 or ComfyUI)',
    inApp: 'add it in Settings › Models',
    inCli: '`singleinsert models add <path>`',
  },
} as const;
export type DraftNeed = keyof typeof DRAFT_NEEDS;

/** A need in words for one surface, or for both (a service's error reaches the app and the CLI alike). */
export const draftNeedText = (need: DraftNeed, surface: 'app' | 'cli' | 'both') => {
  const n = DRAFT_NEEDS[need];
  return `${n.what}: ${surface === 'app' ? n.inApp : surface === 'cli' ? n.inCli : `${n.inApp}, or ${n.inCli}`}`;
};

/**
 * The size an img2img draws at: the one asked for, else the start image's shape with its long side `base` (the
 * model's own size), both sides multiples of `multiple` (64 for SD 1.x); the image is then cropped to fill it.
 */
export function startImageSize(
  image: { width: number; height: number },
  base: number,
  multiple: number,
  asked: { width?: number | undefined; height?: number | undefined } = {},
): { width: number; height: number } {
  if (asked.width && asked.height) return { width: asked.width, height: asked.height };
  const round = (v: number) => Math.max(multiple, Math.round(v / multiple) * multiple);
  const long = Math.max(image.width, image.height);
  const [w, h] = [round((base * image.width) / long), round((base * image.height) / long)];
  // one side given: the other follows the image's shape
  if (asked.width) return { width: asked.width, height: round((asked.width * image.height) / image.width) };
  if (asked.height) return { width: round((asked.height * image.width) / image.height), height: asked.height };
  return { width: w, height: h };
}

/** The final decoders: SD's own VAE, or the tiny autoencoder TAESD (about 1% of the VAE's work, a little softer). */
export const DECODERS = ['vae', 'taesd'] as const;
export type DecoderName = (typeof DECODERS)[number];
export const DECODER_LABELS: Record<DecoderName, string> = { vae: 'VAE (full quality)', taesd: 'TAESD (fast draft)' };

/**
 * The few-step samplers: they pick their timesteps from the distillation schedule of 50 steps (diffusers'
 * original_inference_steps), so they take at most that many; 4 to 8 is what they are made for.
 */
export const FEW_STEP_SAMPLERS: readonly SamplerName[] = ['lcm', 'tcd'];
export const FEW_STEP_MAX = 50;

/** Why a step count does not suit a sampler, in the words every surface uses (null when it does). */
export const stepsRefusal = (sampler: SamplerName, steps: number): string | null =>
  FEW_STEP_SAMPLERS.includes(sampler) && steps > FEW_STEP_MAX
    ? `${SAMPLER_LABELS[sampler]} takes at most ${FEW_STEP_MAX} steps (it is made for 4 to 8); choose fewer steps or another sampler`
    : null;

/** The samplers Karras σ spacing applies to (diffusers' use_karras_sigmas; its Euler ancestral has none). */
export const KARRAS_SAMPLERS: readonly SamplerName[] = ['euler', 'dpmpp2m', 'dpmpp2m_sde', 'dpmpp_sde', 'unipc'];

/** Why Karras σ cannot go with a sampler, in the words every surface uses. */
export const karrasRefusal = (sampler: SamplerName) =>
  `only ${KARRAS_SAMPLERS.map((s) => SAMPLER_LABELS[s]).join(', ')} take Karras sigmas, not ${SAMPLER_LABELS[sampler]}`;

/** The samplers that add fresh noise at each step (each image's from its own seed). */
export const STOCHASTIC_SAMPLERS: readonly SamplerName[] = ['euler_a', 'dpmpp2m_sde', 'dpmpp_sde', 'lcm', 'tcd'];

/** "*", "*2", "*3"…: the words concepts stand behind in a prompt. */
export const placeholder = z.string().regex(/^\*\d*$/, 'a placeholder is * or *N (*2, *3…)');

/** Novel views as prompt phrases the SingleInsert paper shows (front, three-quarter, side, back, from above). */
export const NOVEL_VIEWS = {
  front: 'front view',
  'three-quarter': 'three-quarter view',
  side: 'side view, in profile',
  back: 'seen from behind',
  above: 'seen from above',
} as const;
export type NovelView = keyof typeof NOVEL_VIEWS;
export const novelView = z.enum(Object.keys(NOVEL_VIEWS) as [NovelView, ...NovelView[]]);

/** Views said the way each kind of subject is usually described (others use NOVEL_VIEWS). */
const VIEWS_BY_CLASS: Record<string, Partial<Record<NovelView, string>>> = {
  face: { front: 'front view, facing the camera', side: 'side profile', back: 'the back of the head', above: 'seen from above, looking up' },
  person: { front: 'front view, facing the camera', side: 'side profile', back: 'seen from behind', above: 'seen from above' },
  hair: { front: 'front view', side: 'side view of the hairstyle', back: 'the back of the head, hairstyle from behind' },
  dog: { side: 'side view, full body in profile', back: 'seen from behind, tail towards the camera' },
  cat: { side: 'side view, full body in profile', back: 'seen from behind, tail towards the camera' },
};

/** A view's phrase for the subject's class word. */
export const viewPhrase = (view: NovelView, classWord?: string) => VIEWS_BY_CLASS[classWord ?? '']?.[view] ?? NOVEL_VIEWS[view];

/** The prompt as drawn with a view: the view's phrase (for the first concept's class word) after it. */
export const promptWithView = (prompt: string, view: NovelView | null | undefined, classWord?: string) =>
  view ? `${prompt.trim()}, ${viewPhrase(view, classWord)}` : prompt;

/** [x0, y0, x1, y1] on the canvas: fractions of its size (all ≤ 1) or pixels. */
export const regionBox = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .refine(([x0, y0, x1, y1]) => x1 > x0 && y1 > y0, 'a region box is x0,y0,x1,y1 with x1 > x0 and y1 > y0');
export type RegionBox = z.infer<typeof regionBox>;

/** How far a LoRA's strength may go, as A1111 and ComfyUI allow: negative weights subtract a LoRA (a style taken away). */
export const LORA_STRENGTH = { min: -2, max: 2 } as const;

/** A box in pixels: fractions (every value within 0…1) scale by the canvas. */
export function boxInPixels(box: RegionBox, width: number, height: number): RegionBox {
  const fractions = box.every((v) => v >= 0 && v <= 1);
  return fractions ? [box[0] * width, box[1] * height, box[2] * width, box[3] * height] : box;
}

export const composition = z
  .object({
    prompt: z.string().trim().min(1, 'the prompt is empty; say what the image shows').max(2000),
    negative: z.string().max(2000).default(''),
    view: novelView.nullable().default(null),
    concepts: z
      .array(
        z
          .object({
            placeholder,
            conceptId,
            /** LoRA strength: 1 as learned, 0 the token alone, below 0 the opposite (a style LoRA taken away). */
            scale: z.number().min(LORA_STRENGTH.min).max(LORA_STRENGTH.max).default(1),
            /** false: the concept's token is left out (its placeholder dropped from the prompt); its LoRA alone acts. */
            useToken: z.boolean().default(true),
          })
          .strict(),
      )
      .max(8)
      .default([]),
    regions: z
      .array(
        z.union([
          z.object({ placeholder, box: regionBox }).strict(),
          // a painted region: a PNG whose opaque pixels are inside (any size: it is scaled to the image)
          z
            .object({
              placeholder,
              paint: z
                .string()
                .regex(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/, 'a painted region is a PNG data URL')
                .max(4_000_000),
            })
            .strict(),
        ]),
      )
      .max(8)
      .default([]),
    sampler: z.enum(SAMPLERS).default('ddim'),
    /** Karras σ spacing (Euler and DPM-Solver++(2M)). */
    karras: z.boolean().default(false),
    steps: z.number().int().min(1).max(1000).default(50),
    /**
     * img2img: draw over a library photo or a Gallery image instead of from noise. `strength` is how much is redrawn
     * (A1111's denoising strength: 1 all of it, 0.3 a light touch, 0 none: the start image itself); `inpaint`, a PNG whose opaque pixels are redrawn
     * (any size: it is scaled to the image), or `mask`, a saved mask of the start photo (the mask studio's SAM clicks,
     * box and brush), cropped as the photo is; `invert` redraws outside it instead (keep the subject, change the
     * scene). The rest is kept from the start image and blended back at the edge over `feather` pixels.
     */
    start: z
      .object({
        imageId: z.union([imageId, generationId]),
        strength: z.number().min(0).max(1).default(0.6),
        inpaint: z
          .string()
          .regex(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/, 'an inpainting mask is a PNG data URL')
          .max(4_000_000)
          .nullable()
          .default(null),
        mask: z
          .string()
          .regex(/^msk_[0-9a-z]{6,32}$/, 'expected a saved mask id like msk_1a2b3c4d')
          .nullable()
          .default(null),
        invert: z.boolean().default(false),
        feather: z.number().int().min(0).max(64).default(8),
      })
      .strict()
      .refine((s) => !(s.inpaint && s.mask), { message: 'inpaint with a painted mask or a saved one, not both', path: ['mask'] })
      .nullable()
      .default(null),
    /** What turns the final latents into pixels: SD's VAE, or TAESD (installed in Settings › Models) for quick drafts. */
    decoder: z.enum(DECODERS).default('vae'),
    guidance: z.number().min(0).max(50).default(7.5),
    seed: seed.default(0),
    count: z.number().int().min(1).max(64).default(1),
    // the model's own size when omitted (512 for SD 1.x); the model says the multiple it needs (64 px for SD 1.x)
    width: z.number().int().min(16).max(4096).multipleOf(8, 'sizes are multiples of 8 (64 for SD 1.x)').optional(),
    height: z.number().int().min(16).max(4096).multipleOf(8, 'sizes are multiples of 8 (64 for SD 1.x)').optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.karras && !KARRAS_SAMPLERS.includes(c.sampler))
      ctx.addIssue({
        code: 'custom',
        path: ['karras'],
        message: karrasRefusal(c.sampler),
      });
    const tooMany = stepsRefusal(c.sampler, c.steps);
    if (tooMany) ctx.addIssue({ code: 'custom', path: ['steps'], message: tooMany });
    const placed = new Set(c.concepts.map((x) => x.placeholder));
    if (placed.size !== c.concepts.length)
      ctx.addIssue({ code: 'custom', path: ['concepts'], message: 'two concepts share a placeholder; give each its own (*, *2, *3…)' });
    c.regions.forEach((r, i) => {
      if (!placed.has(r.placeholder))
        ctx.addIssue({ code: 'custom', path: ['regions', i, 'placeholder'], message: `no concept is placed at ${r.placeholder}` });
    });
  });
export type Composition = z.output<typeof composition>;
export type CompositionInput = z.input<typeof composition>;

/** How the Compose form labels each field: its messages name them so. */
export const COMPOSITION_LABELS = {
  prompt: 'The prompt',
  negative: 'The negative prompt',
  view: 'View',
  concepts: 'Concepts',
  regions: 'Regions',
  sampler: 'Sampler',
  karras: 'Karras sigmas',
  steps: 'Steps',
  decoder: 'Decoder',
  start: 'Start image',
  guidance: 'Guidance',
  seed: 'Seed',
  count: 'Images',
  width: 'Width',
  height: 'Height',
} as const satisfies Record<keyof Composition, string>;

/** A composition check's first complaint in plain words, and the field the form marks. */
export function describeCompositionIssue(issue: z.core.$ZodIssue): { field: keyof Composition | null; message: string } {
  const [key] = issue.path;
  const field = typeof key === 'string' && key in COMPOSITION_LABELS ? (key as keyof Composition) : null;
  return { field, message: describeIssue(issue, field ? COMPOSITION_LABELS[field] : 'A setting') };
}
