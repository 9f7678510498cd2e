import { LEARN_PRESETS, type LearnPreset, learnSettings, type LearnSettingsInput, type TrainingRun } from '../../../src-preload/contract/training.js';
import { PROVIDER_CHOICES } from '../../../src-preload/contract/common.js';
import type { Library } from '../../library/library.js';
import { createRun, runInThisProcess } from '../../pipeline/learn/learning-service.js';
import type { CliIo, Command } from '../command.js';
import { JSON_OPTION, UsageError, withLibrary } from '../command.js';
import { learnProgress } from '../learn-progress.js';

/** Each setting's option: `--steps1` sets `steps1`, and so on (one table for parsing and help). */
/** The settings a run takes one by one, each with what it means; defaults are the contract's. */
const SETTING_OPTIONS: Record<string, { key: keyof LearnSettingsInput; kind: 'number' | 'string'; value: string; description: string; default?: string }> = {
  steps1: { key: 'steps1', kind: 'number', value: '<n>', description: 'Stage I steps: the image encoder learns the token.' },
  steps2: { key: 'steps2', kind: 'number', value: '<n>', description: 'Stage II steps: encoder and LoRA together (0: the token alone).' },
  lr1: { key: 'lr1', kind: 'number', value: '<rate>', description: "Stage I's AdamW learning rate." },
  lr2: { key: 'lr2', kind: 'number', value: '<rate>', description: "Stage II's AdamW learning rate." },
  batch: { key: 'batch', kind: 'number', value: '<n>', description: 'Noised copies of the photo per step.' },
  'micro-batches': {
    key: 'microBatches',
    kind: 'number',
    value: '<n>',
    description: 'Split each step into this many passes to save memory.',
    default: 'as the free memory needs',
  },
  rank: { key: 'loraRank', kind: 'number', value: '<n>', description: "The LoRA's rank." },
  gamma: { key: 'gamma', kind: 'number', value: '<weight>', description: 'Weight of the background loss.' },
  eta: { key: 'eta', kind: 'number', value: '<weight>', description: "Weight of Stage II's semantic loss (keeps the class word's meaning)." },
  seed: { key: 'seed', kind: 'number', value: '<n>', description: 'Seeds noise, timesteps and the encoder start: the same seed learns the same concept.' },
  encoder: {
    key: 'encoder',
    kind: 'string',
    value: 'official|<clip>',
    description: "The image encoder: SingleInsert's ViT-B/32 from a random start, or an installed CLIP vision model.",
  },
  'stage2-target': { key: 'stage2Target', kind: 'string', value: 'lora-text|frozen', description: "What Stage II's semantic loss compares with." },
  latents: {
    key: 'latents',
    kind: 'string',
    value: 'sample|mean',
    description: "The photo's latents: a fresh sample of the VAE's posterior each step, or its mean.",
  },
  'checkpoint-every': { key: 'checkpointEvery', kind: 'number', value: '<n>', description: 'Save resumable state every n steps.' },
  provider: {
    key: 'provider',
    kind: 'string',
    value: PROVIDER_CHOICES.join('|'),
    description: "Where to run: the best usable GPU (auto: the run's log says which), the CPU, or a GPU through WebGPU or CUDA.",
  },
  latent: { key: 'latentSize', kind: 'number', value: '<n>', description: 'Latent side (64 is 512 px).' },
  'max-memory': {
    key: 'maxMemoryGb',
    kind: 'number',
    value: '<GB>',
    description: 'The memory a step may use; the step is split or refused to fit.',
    default: "the machine's free memory",
  },
  'preview-every': { key: 'previewEvery', kind: 'number', value: '<n>', description: 'Draw the test prompts every n steps.' },
  'preview-steps': { key: 'previewSteps', kind: 'number', value: '<n>', description: 'Sampling steps of each preview.' },
  'preview-seed': { key: 'previewSeed', kind: 'number', value: '<n>', description: 'Prompt i of every preview starts from the noise of this seed + i.' },
};
const DEFAULT_SETTINGS = learnSettings.parse({});

/** --preset, then the options given one by one, checked by the contract's schema; errors name the option. */
function settingsFrom(values: Record<string, unknown>) {
  const preset = String(values.preset ?? 'faithful');
  if (!(preset in LEARN_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(LEARN_PRESETS).join(', ')}, got "${preset}"`);
  const raw: Record<string, unknown> = { ...LEARN_PRESETS[preset as LearnPreset] };
  for (const [option, { key, kind }] of Object.entries(SETTING_OPTIONS)) {
    const v = values[option];
    if (v === undefined) continue;
    const n = Number(v);
    if (kind === 'number' && (String(v).trim() === '' || !Number.isFinite(n))) throw new UsageError(`--${option} takes a number, got "${String(v)}"`);
    raw[key] = kind === 'number' ? n : v;
  }
  // the test prompts: --preview (repeatable) replaces the defaults; --no-previews draws none
  if (values['no-previews'] === true) raw.previewPrompts = [];
  else if (Array.isArray(values.preview) && values.preview.length) raw.previewPrompts = values.preview;
  const parsed = learnSettings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option =
      issue.path[0] === 'previewPrompts' ? 'preview' : (Object.entries(SETTING_OPTIONS).find(([, o]) => o.key === issue.path[0])?.[0] ?? String(issue.path[0]));
    throw new UsageError(`--${option}: ${issue.message}`);
  }
  return parsed.data;
}

/** Runs a claimed run here with progress on the terminal; Ctrl+C cancels it (its checkpoint is kept). */
export async function runWithProgress(library: Library, runId: string, io: CliIo, json: boolean): Promise<TrainingRun> {
  const progress = learnProgress(io);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = performance.now();
  try {
    const run = await runInThisProcess(library, runId, {
      signal: controller.signal,
      onStep: progress.step,
      onLog: progress.log,
      onPreviews: progress.previews,
    });
    progress.stop();
    if (json) io.out(JSON.stringify({ run, steps: library.runs.steps(runId) }));
    else io.out(`${run.conceptId}\t${run.name}`);
    io.err(`Learned in ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
    return run;
  } catch (err) {
    progress.stop();
    io.err(
      `Run ${runId} stopped; see it with \`singleinsert runs show ${runId}\`${library.runs.get(runId).checkpointStep > 0 ? `, go on with \`singleinsert runs resume ${runId}\`` : ''}.`,
    );
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const learnCommand: Command = {
  name: 'learn',
  summary:
    'Learn a concept from one library photo and its mask (SingleInsert: Stage I inversion, then Stage II LoRA finetune), as a run that ' +
    'writes a checkpoint every 10 steps: a run that is stopped goes on with `singleinsert runs resume <run>`. ' +
    'Presets: faithful (Stage I 50 + Stage II 100 steps, the paper) or fast (Stage I only). Uses the latest saved mask of the class word unless --mask names one. ' +
    "The image encoder is SingleInsert's own (a ViT-B/32 from a random start) unless --encoder names a CLIP vision model. " +
    'Every 25 steps, and from the finished concept, it draws test prompts with the concept as it stands (--preview, repeatable; `*` is the concept, ' +
    '{class} the class word); `singleinsert runs previews <run> --out DIR` writes them out.',
  usage:
    'learn <image-id> --class dog --model <sd> [--preset faithful|fast] [--encoder official|<clip>] [--mask msk_…] [--name N] [--steps1 50] [--steps2 100] ' +
    '[--lr1 1e-4] [--lr2 5e-5] [--batch 4] [--micro-batches N] [--rank 4] [--gamma 1] [--eta 1] [--seed 0] [--stage2-target lora-text|frozen] ' +
    '[--latents sample|mean] [--checkpoint-every 10] [--latent 64] [--max-memory GB] [--provider auto|cpu|webgpu|cuda] ' +
    '[--preview "* {class} as a marble statue"]… [--preview-every 25] [--preview-steps 25] [--preview-seed 0] [--no-previews] [--json]',
  options: {
    class: { type: 'string', value: '<word>', description: 'What the concept is (face, hair, dog…): the word after * in prompts.' },
    model: { type: 'string', value: '<sd>', description: "The SD 1.x model to learn on: a path, or an installed model's id or name." },
    mask: { type: 'string', value: 'msk_…', description: 'The mask to learn from.', default: "the photo's latest mask of --class" },
    name: { type: 'string', value: '<name>', description: "The concept's name in the library.", default: 'the class word' },
    preset: {
      type: 'string',
      value: Object.keys(LEARN_PRESETS).join('|'),
      description: "faithful: the paper's two stages; fast: Stage I only.",
      default: 'faithful',
    },
    json: JSON_OPTION,
    preview: {
      type: 'string',
      multiple: true,
      value: '"* {class} as …"',
      description: 'A test prompt drawn as the concept learns ({class} is the class word).',
    },
    'no-previews': { type: 'boolean', description: 'Draw no test prompts.' },
    ...Object.fromEntries(
      Object.entries(SETTING_OPTIONS).map(([o, { key, value, description }]) => [
        o,
        { type: 'string' as const, value, description, default: String(DEFAULT_SETTINGS[key]) },
      ]),
    ),
  },
  examples: [
    'singleinsert learn img_1a2b3c4d --class dog --model sd15 --name Rex',
    'singleinsert learn img_1a2b3c4d --class face --model sd15 --preset fast --provider cuda',
    'singleinsert learn img_1a2b3c4d --class dog --model sd15 --preview "* {class} in the snow" --preview "* {class} as a marble statue"',
  ],
  run: async ({ positionals, values, global, io }) => {
    const imageId = positionals[0];
    if (!imageId) throw new UsageError('learn needs a library image id (see `singleinsert library list`)');
    if (!values.class) throw new UsageError('learn needs --class (face, hair, dog…)');
    if (!values.model) throw new UsageError("learn needs --model (an SD 1.x model: a path, or an installed model's id or name)");
    const settings = settingsFrom(values);
    return withLibrary(global, async (library) => {
      const run = await createRun(library, {
        imageId,
        classWord: String(values.class),
        model: String(values.model),
        settings,
        ...(values.mask ? { maskId: String(values.mask) } : {}),
        ...(values.name ? { name: String(values.name) } : {}),
      });
      io.err(`Run ${run.id}: ${run.totalSteps} steps (Stage I ${settings.steps1}, Stage II ${settings.steps2}), checkpoint every ${settings.checkpointEvery}.`);
      await runWithProgress(library, run.id, io, values.json === true);
      return 0;
    });
  },
};
