// The concept report card: the SingleInsert paper's metrics measured on a concept's own fixed, seeded image set,
// stored in the library, compared side by side, exported. One list of metrics for every surface.
import { z } from 'zod';
import { conceptId, isoDate, jobId, providerChoice, sha256Hex } from './common.js';
import { method, service } from './define.js';

export const METRIC_KEYS = ['clipIF', 'clipIB', 'dinoF', 'dinoB', 'clipT', 'div', 'esr'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

/** The model family a metric needs (the model manager's names). */
export type MetricModel = 'clip' | 'dino' | 'lpips';

export interface MetricInfo {
  label: string;
  /** What it says about the concept, in a person's words. */
  meaning: string;
  /** Whether more is better (background similarity is better low: the photo's background should not leak). */
  better: 'higher' | 'lower';
  needs: readonly MetricModel[];
  /** The paper's Table 1 (SingleInsert, Stage II; ESR also at Stage I). */
  paper: { stage1: number | null; stage2: number };
}

export const METRICS: Record<MetricKey, MetricInfo> = {
  clipIF: {
    label: 'CLIP-I-f',
    meaning: 'the subject looks like the photo’s (CLIP)',
    better: 'higher',
    needs: ['clip'],
    paper: { stage1: null, stage2: 0.857 },
  },
  clipIB: { label: 'CLIP-I-b', meaning: 'the photo’s background comes back (CLIP)', better: 'lower', needs: ['clip'], paper: { stage1: null, stage2: 0.601 } },
  dinoF: { label: 'DINO-f', meaning: 'the subject looks like the photo’s (DINO)', better: 'higher', needs: ['dino'], paper: { stage1: null, stage2: 0.609 } },
  dinoB: { label: 'DINO-b', meaning: 'the photo’s background comes back (DINO)', better: 'lower', needs: ['dino'], paper: { stage1: null, stage2: 0.176 } },
  clipT: { label: 'CLIP-T', meaning: 'the image follows the prompt', better: 'higher', needs: ['clip'], paper: { stage1: null, stage2: 0.311 } },
  div: {
    label: 'DIV',
    meaning: 'images of one prompt differ from each other (LPIPS)',
    better: 'higher',
    needs: ['lpips'],
    paper: { stage1: null, stage2: 0.753 },
  },
  esr: { label: 'ESR', meaning: 'share of edits judged successful', better: 'higher', needs: ['clip'], paper: { stage1: 0.845, stage2: 0.825 } },
};

/** Where a person adds each metric model (shown when one is missing). */
export const METRIC_MODEL_HINTS: Record<MetricModel, string> = {
  clip: 'a CLIP model folder (e.g. openai/clip-vit-base-patch32: config.json + model.safetensors)',
  dino: 'a DINO folder (facebook/dino-vits16 as in the paper, or facebook/dinov2-small: config.json + model.safetensors)',
  lpips:
    'LPIPS-AlexNet weights as one .safetensors (lpips’ alex.pth lin layers + torchvision’s alexnet features, converted), or the LPIPS network exported to ONNX (e.g. lpips_alex.onnx; any other name with --family lpips)',
};

export const EVALUATION_SETS = ['default', 'full'] as const;
export type EvaluationSetName = (typeof EVALUATION_SETS)[number];

export const evaluationId = z.string().regex(/^evl_[0-9a-z]{6,32}$/, 'expected an evaluation id like evl_1a2b3c4d');

const metricValue = z.object({
  value: z.number().nullable(),
  /** Why there is no value: the model it needs and where to add it. */
  missing: z.string().nullable(),
});

export const evaluationImage = z.object({
  promptIndex: z.number().int().nonnegative(),
  seed: z.number().int(),
  sha256: sha256Hex,
  /** Per image: CLIP-I-f/-b, DINO-f/-b, CLIP-T; null where the model is missing. */
  scores: z.object({
    clipIF: z.number().nullable(),
    clipIB: z.number().nullable(),
    dinoF: z.number().nullable(),
    dinoB: z.number().nullable(),
    clipT: z.number().nullable(),
  }),
  /** The judge's verdict; null without CLIP. */
  edited: z.boolean().nullable(),
  /** Where the subject was found: the detector's mask, or the concept's own region. */
  maskSource: z.enum(['detector', 'concept-region']),
});
export type EvaluationImage = z.infer<typeof evaluationImage>;

export const evaluationReport = z.object({
  id: evaluationId,
  conceptId,
  conceptName: z.string(),
  /** 2 when the concept carries a LoRA (Stage II), else 1: which of the paper's rows it is set against. */
  stage: z.union([z.literal(1), z.literal(2)]),
  /** What this run of the concept was, for comparisons ("Fast", "Faithful", a mask version). */
  label: z.string(),
  set: z.object({
    name: z.enum(EVALUATION_SETS),
    promptFileVersion: z.number().int(),
    /** The prompt file's list used: the class word, or "*" for the generic one. */
    list: z.string(),
    prompts: z.array(z.object({ prompt: z.string(), plain: z.string(), targets: z.array(z.string()), absence: z.string() })),
    seeds: z.number().int(),
    sampler: z.string(),
    steps: z.number().int(),
    guidance: z.number(),
    width: z.number().int(),
    height: z.number().int(),
  }),
  metrics: z.object(Object.fromEntries(METRIC_KEYS.map((k) => [k, metricValue])) as Record<MetricKey, typeof metricValue>),
  models: z.object({
    sd: z.string(),
    clip: z.string().nullable(),
    dino: z.string().nullable(),
    lpips: z.string().nullable(),
    segmentation: z.string(),
  }),
  judge: z.object({ rule: z.string(), identityThreshold: z.number() }),
  /** Sentences on what is weak, against the paper's figures. */
  weak: z.array(z.string()),
  cost: z.object({ seconds: z.number(), images: z.number().int(), provider: z.string(), peakRssBytes: z.number() }),
  images: z.array(evaluationImage),
  createdAt: isoDate,
});
export type EvaluationReport = z.infer<typeof evaluationReport>;

export const evaluationSummary = evaluationReport
  .pick({ id: true, conceptId: true, conceptName: true, label: true, stage: true, metrics: true, createdAt: true })
  .extend({
    set: z.enum(EVALUATION_SETS),
  });
export type EvaluationSummary = z.infer<typeof evaluationSummary>;

export const evaluationsService = service(
  {
    /** Every report, newest first (of one concept when `conceptId` is given). */
    list: method(z.object({ conceptId: conceptId.optional() }).strict(), z.array(evaluationSummary)),
    get: method(z.object({ id: evaluationId }).strict(), evaluationReport),
    /** Queues the evaluation as a job in the GPU lane and returns at once; progress comes through jobs.onUpdate. */
    start: method(
      z
        .object({
          conceptId,
          model: z.string().trim().min(1).max(4096),
          set: z.enum(EVALUATION_SETS).default('default'),
          label: z.string().trim().max(80).optional(),
          provider: providerChoice.default('auto'),
        })
        .strict(),
      z.object({ jobId }),
    ),
    /** The report as JSON or CSV text (one row per image, then the averages), to save where the person chooses. */
    exportReport: method(z.object({ id: evaluationId, format: z.enum(['json', 'csv']) }).strict(), z.object({ fileName: z.string(), text: z.string() })),
    remove: method(z.object({ id: evaluationId }).strict(), z.object({ removedFiles: z.number().int() })),
  },
  { onChanged: z.object({ conceptId }) },
);
