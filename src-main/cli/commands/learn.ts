import { LEARN_PRESETS, type LearnPreset, learnSettings, type LearnSettingsInput, type TrainingRun } from '../../../src-preload/contract/training.js';
import type { Library } from '../../library/library.js';
import { createRun, runInThisProcess } from '../../pipeline/learn/learning-service.js';
import type { CliIo, Command } from '../command.js';
import { UsageError, withLibrary } from '../command.js';
import { learnProgress } from '../learn-progress.js';

/** Each setting's option: `--steps1` sets `steps1`, and so on (one table for parsing and help). */
const SETTING_OPTIONS: Record<string, { key: keyof LearnSettingsInput; kind: 'number' | 'string' }> = {
  steps1: { key: 'steps1', kind: 'number' },
  steps2: { key: 'steps2', kind: 'number' },
  lr1: { key: 'lr1', kind: 'number' },
  lr2: { key: 'lr2', kind: 'number' },
  batch: { key: 'batch', kind: 'number' },
  'micro-batches': { key: 'microBatches', kind: 'number' },
  rank: { key: 'loraRank', kind: 'number' },
  gamma: { key: 'gamma', kind: 'number' },
  eta: { key: 'eta', kind: 'number' },
  seed: { key: 'seed', kind: 'number' },
  encoder: { key: 'encoder', kind: 'string' },
  'stage2-target': { key: 'stage2Target', kind: 'string' },
  latents: { key: 'latents', kind: 'string' },
  'checkpoint-every': { key: 'checkpointEvery', kind: 'number' },
  provider: { key: 'provider', kind: 'string' },
  latent: { key: 'latentSize', kind: 'number' },
  'max-memory': { key: 'maxMemoryGb', kind: 'number' },
  'preview-every': { key: 'previewEvery', kind: 'number' },
  'preview-steps': { key: 'previewSteps', kind: 'number' },
  'preview-seed': { key: 'previewSeed', kind: 'number' },
};

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
    '[--latents sample|mean] [--checkpoint-every 10] [--latent 64] [--max-memory GB] [--provider cpu|webgpu|cuda] ' +
    '[--preview "* {class} as a marble statue"]… [--preview-every 25] [--preview-steps 25] [--preview-seed 0] [--no-previews] [--json]',
  options: {
    class: { type: 'string' },
    model: { type: 'string' },
    mask: { type: 'string' },
    name: { type: 'string' },
    preset: { type: 'string' },
    json: { type: 'boolean' },
    preview: { type: 'string', multiple: true },
    'no-previews': { type: 'boolean' },
    ...Object.fromEntries(Object.keys(SETTING_OPTIONS).map((o) => [o, { type: 'string' as const }])),
  },
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
