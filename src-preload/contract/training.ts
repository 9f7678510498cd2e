// Learning a concept: the settings a run takes (one schema for the API, the CLI and the stored
// run), the presets, and the run as the library keeps it.
import { z } from 'zod';
import { describeIssue } from './field-issues.js';
import { conceptId, imageId, isoDate, providerChoice, seed } from './common.js';
import { method, service } from './define.js';

export const runId = z.string().regex(/^run_[0-9a-z]{6,32}$/, 'expected a run id like run_1a2b3c4d');

export const MAX_PREVIEW_PROMPTS = 4;
export const DEFAULT_PREVIEW_PROMPTS = ['a photo of * {class}', '* {class} as a marble statue'] as const;
const previewPrompt = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine((p) => /(^|\s)\*(?=\s|$|[,.;:!?])/.test(p), 'a preview prompt needs the concept\'s placeholder * as a word, like "* {class} as a marble statue"');

/** How a run's log line about its device begins ("Runs on WebGPU on …: why."); the run detail shows the latest. */
export const RUNS_ON = 'Runs on ';

/** A preview prompt as drawn: `{class}` replaced by the run's class word. */
export const previewPromptFor = (prompt: string, classWord: string) => prompt.replaceAll('{class}', classWord);

/**
 * The method's own numbers (SingleInsert paper and code): Stage I 50 steps at 1e-4, Stage II 100 steps
 * at 5e-5, AdamW (weight decay 1e-2, clipping 1.0), batch 4 of the one photo, LoRA rank 4, γ = η = 1.
 */
export const learnSettings = z
  .object({
    steps1: z.number().int().min(0).max(10_000).default(50),
    steps2: z.number().int().min(0).max(10_000).default(100),
    lr1: z.number().positive().max(1).default(1e-4),
    lr2: z.number().positive().max(1).default(5e-5),
    /** Copies of the photo per optimizer step (each with its own timestep and noise). */
    batch: z.number().int().min(1).max(64).default(4),
    /** Run the batch as this many micro-batches (gradients accumulated); 0 lets the memory plan choose. */
    microBatches: z.number().int().min(0).max(64).default(0),
    loraRank: z.number().int().min(1).max(64).default(4),
    gamma: z.number().min(0).max(100).default(1),
    eta: z.number().min(0).max(100).default(1),
    seed: seed.default(0),
    /**
     * "official": ViT-B/32 from a seeded random start fed [-1, 1] pixels, as SingleInsert's code does (no
     * extra model needed); otherwise a pretrained CLIP vision model (id, name or path) with CLIP's normalisation.
     */
    encoder: z.string().trim().min(1).max(4096).default('official'),
    /**
     * A bias on the encoder's projection to the token. SingleInsert's is a bare matrix (off); runs begun
     * before the app followed that were given one and keep it (migration 0008), so they resume to the same bytes.
     */
    mapperBias: z.boolean().default(false),
    /** Stage II's target for L_bg and L_sm: the frozen UNet on the class prompt read by the LoRA text encoder (the code's choice), or by the frozen one. */
    stage2Target: z.enum(['lora-text', 'frozen']).default('lora-text'),
    /** Photo latents: drawn from the VAE's posterior each step (the code's choice), or its mean. */
    latents: z.enum(['sample', 'mean']).default('sample'),
    /** Write a resumable checkpoint every N steps. */
    checkpointEvery: z.number().int().min(1).max(10_000).default(10),
    /** Where the steps run; `auto`: the best usable GPU, else the CPU (the run's log says which and why). */
    provider: providerChoice.default('auto'),
    /** Latent side (photo side / 8); SD 1.5's 64 (512 px) unless a smaller run is wanted. */
    latentSize: z.number().int().min(4).max(128).default(64),
    /** Memory the steps may use, in GiB; the device's free memory when 0. */
    maxMemoryGb: z.number().min(0).max(1024).default(0),
    /**
     * The user's test prompts, drawn with the concept as it stands every `previewEvery` steps and once
     * from the finished concept (its thumbnail). `*` is the concept; `{class}` becomes the class word.
     */
    previewPrompts: z
      .array(previewPrompt)
      .max(MAX_PREVIEW_PROMPTS)
      .default([...DEFAULT_PREVIEW_PROMPTS]),
    /** Draw the previews every N steps (0: only the finished concept's). */
    previewEvery: z.number().int().min(0).max(10_000).default(25),
    /** DDIM steps of a preview (the method samples with 50; previews trade detail for time). */
    previewSteps: z.number().int().min(1).max(150).default(25),
    /** Prompt i of every preview starts from the noise of seed previewSeed + i, so previews compare over time. */
    previewSeed: seed.default(0),
  })
  .strict();
export type LearnSettings = z.output<typeof learnSettings>;
export type LearnSettingsInput = z.input<typeof learnSettings>;

/** The settings as the training form and its messages name them. */
export const LEARN_SETTING_LABELS = {
  steps1: 'Stage I steps',
  steps2: 'Stage II steps',
  lr1: 'Stage I lr',
  lr2: 'Stage II lr',
  batch: 'Batch',
  microBatches: 'Micro-batches',
  loraRank: 'LoRA rank',
  gamma: 'γ (background)',
  eta: 'η (semantics)',
  seed: 'Seed',
  encoder: 'Image encoder',
  stage2Target: 'Stage II target',
  latents: 'Photo latents',
  checkpointEvery: 'Checkpoint every',
  provider: 'Device',
  latentSize: 'Latent size',
  maxMemoryGb: 'Memory limit',
  previewPrompts: 'Test prompt',
  previewEvery: 'Preview every',
  previewSteps: 'Preview steps',
  previewSeed: 'Preview seed',
  mapperBias: 'Projection bias',
} as const satisfies Record<keyof LearnSettings, string>;

/**
 * A settings check's first complaint in plain words, naming the field as the form does ("Stage I steps must
 * be at most 10000."), and the field's key so the form can mark it.
 */
export function describeSettingIssue(issue: z.core.$ZodIssue): { field: keyof LearnSettings | null; message: string } {
  const [key, index] = issue.path;
  const field = typeof key === 'string' && key in LEARN_SETTING_LABELS ? (key as keyof LearnSettings) : null;
  const label = field ? (field === 'previewPrompts' && typeof index === 'number' ? `Test prompt ${index + 1}` : LEARN_SETTING_LABELS[field]) : 'A setting';
  return { field, message: describeIssue(issue, label) };
}

/** Presets the Training screen and `learn --preset` offer; custom is whatever the user sets. */
export const LEARN_PRESETS = {
  /** Stage I only: the token, no LoRA (minutes on a GPU). */
  fast: { steps2: 0 },
  /** Stage I + Stage II, the paper's setting. */
  faithful: {},
} as const satisfies Record<string, LearnSettingsInput>;
export type LearnPreset = keyof typeof LEARN_PRESETS;

export const runState = z.enum(['queued', 'running', 'interrupted', 'succeeded', 'failed', 'cancelled']);
export type RunState = z.infer<typeof runState>;

export const runStep = z.object({
  step: z.number().int(),
  stage: z.union([z.literal(1), z.literal(2)]),
  loss: z.number(),
  lFg: z.number(),
  lBg: z.number(),
  lSm: z.number().nullable(),
  gradNorm: z.number(),
  ms: z.number(),
  /** The training process's resident memory after the step, in MiB (null for steps recorded before it was kept). */
  rssMb: z.number().nullable(),
});
export type RunStep = z.infer<typeof runStep>;

/** Where a waiting run can go in the queue: a place up or down, or to its front or end. */
export const QUEUE_MOVES = ['up', 'down', 'first', 'last'] as const;
export type QueueMove = (typeof QUEUE_MOVES)[number];

export const trainingRun = z.object({
  id: runId,
  name: z.string(),
  classWord: z.string(),
  imageId: imageId.nullable(),
  maskId: z.string().nullable(),
  modelId: z.string().nullable(),
  modelRef: z.string(),
  settings: learnSettings,
  state: runState,
  stage: z.union([z.literal(1), z.literal(2)]),
  step: z.number().int(),
  totalSteps: z.number().int(),
  checkpointStep: z.number().int(),
  error: z.string().nullable(),
  conceptId: conceptId.nullable(),
  /** Lines for the run's log: memory plans, resumes, the reason it stopped. */
  log: z.array(z.string()),
  /** Its place in the queue (lower runs first); meaningful while it waits. */
  queueOrder: z.number().int(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
});
export type TrainingRun = z.infer<typeof trainingRun>;

/** One preview image: prompt i drawn with the concept after `step` steps (the last one is the finished concept). */
export const runPreview = z.object({
  step: z.number().int(),
  stage: z.union([z.literal(1), z.literal(2)]),
  promptIndex: z.number().int(),
  prompt: z.string(),
  seed: z.number().int(),
  sha256: z.string(),
  /** Drawn from the finished concept (the one in the Library), not a mid-run state. */
  final: z.boolean(),
  createdAt: isoDate,
});
export type RunPreview = z.infer<typeof runPreview>;

/** A run with everything its detail view shows. */
export const runDetail = z.object({ run: trainingRun, steps: z.array(runStep), previews: z.array(runPreview) });
export type RunDetail = z.infer<typeof runDetail>;

export const newRun = z
  .object({
    imageId,
    classWord: z.string().trim().toLowerCase().min(1).max(64),
    /** A mask id; the latest saved mask of the class word when omitted. */
    maskId: z.string().max(64).optional(),
    /** The SD 1.x model: id, name or path. */
    model: z.string().trim().min(1).max(4096),
    name: z.string().trim().max(200).optional(),
    settings: learnSettings.default(learnSettings.parse({})),
  })
  .strict();
export type NewRun = z.input<typeof newRun>;

export const trainingService = service(
  {
    list: method(z.object({}).strict(), z.array(trainingRun)),
    get: method(z.object({ id: runId }).strict(), runDetail),
    /** The run that learned a concept, with its steps and previews (null for a concept from elsewhere). */
    ofConcept: method(z.object({ conceptId }).strict(), runDetail.nullable()),
    /** Queues a run; it starts when the runs before it have ended. Returns at once. */
    start: method(newRun, trainingRun),
    cancel: method(z.object({ id: runId }).strict(), trainingRun),
    /** Queues an interrupted, failed or cancelled run again; it goes on from its last checkpoint. */
    resume: method(z.object({ id: runId }).strict(), trainingRun),
    /** Moves a waiting run in the queue; answers the queue in its new order (the next run first). */
    move: method(z.object({ id: runId, to: z.enum(QUEUE_MOVES) }).strict(), z.array(trainingRun)),
    /** Deletes a run that is not running: its steps, previews and checkpoint (its concept stays). */
    delete: method(z.object({ id: runId }).strict(), z.object({ removedFiles: z.number().int() })),
  },
  {
    /** A run's row changed (state, step); `step` is the step just taken, `previews` the images just drawn, if any. */
    onProgress: z.object({ run: trainingRun, step: runStep.nullable(), previews: z.array(runPreview) }),
  },
);
