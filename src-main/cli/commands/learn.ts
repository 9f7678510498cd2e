import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../common/app-error.js';
import type { ExecutionProvider } from '../../graph/runtime/providers.js';
import { Library } from '../../library/library.js';
import { writeConceptFile } from '../../pipeline/compose/concept-file.js';
import { learnConcept, PAPER_SETTINGS, prepareExample } from '../../pipeline/invert/learn.js';
import { availableMemory } from '../../graph/runtime/memory-plan.js';
import { probeGpus } from '../../system/gpu-probe.js';
import { openClipVision } from '../../weights/clip-vision-loader.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import type { Command } from '../command.js';
import { intOption, UsageError } from '../command.js';
import { resolveModelPath } from '../resolve-model.js';

/**
 * Memory the steps must fit (the plan splits the batch to fit it): an NVIDIA GPU's free memory, else
 * the system's; --max-memory caps it (to leave room for other programs).
 */
async function memoryBudget(provider: ExecutionProvider, maxGb: unknown): Promise<{ availableBytes?: number }> {
  const cap = maxGb === undefined ? Infinity : Number(maxGb) * 2 ** 30;
  if (!(cap > 0)) throw new UsageError('--max-memory takes a size in GB, such as 10');
  const gpu = provider === 'cpu' ? undefined : (await probeGpus()).devices[0];
  const device = gpu ? gpu.freeBytes : availableMemory();
  return { availableBytes: Math.min(device, cap) };
}

export const learnCommand: Command = {
  name: 'learn',
  summary:
    'Learn a concept from one library photo and its mask (SingleInsert: Stage I inversion, then Stage II LoRA finetune). ' +
    'Uses the latest saved mask for the class word unless --mask names one.',
  usage: 'learn <image-id> --class dog --model <sd> --encoder <clip> [--mask msk_…] [--name N] [--steps1 50] [--steps2 100] [--batch 4] [--seed N] [--latent 64] [--max-memory GB] [--provider cpu|webgpu|cuda]',
  options: {
    class: { type: 'string' },
    model: { type: 'string' },
    encoder: { type: 'string' },
    mask: { type: 'string' },
    name: { type: 'string' },
    steps1: { type: 'string' },
    steps2: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    latent: { type: 'string' },
    'max-memory': { type: 'string' },
    provider: { type: 'string' },
  },
  run: async ({ positionals, values, global, io }) => {
    const imageId = positionals[0];
    if (!imageId) throw new UsageError('learn needs a library image id (see `singleinsert library list`)');
    if (!values.class) throw new UsageError('learn needs --class (face, hair, dog…)');
    if (!values.model) throw new UsageError('learn needs --model (an SD 1.x model)');
    if (!values.encoder) throw new UsageError('learn needs --encoder (a CLIP ViT model: HF CLIPVisionModel or CLIPModel folder)');
    const classWord = String(values.class).trim().toLowerCase();
    const sdModel = resolveModelPath(global.dataDir, String(values.model));
    const sd = openStableDiffusion(sdModel.path);
    const vision = openClipVision(resolveModelPath(global.dataDir, String(values.encoder)).path, sd.textEncoder.config.hiddenSize);
    const library = Library.open(global.dataDir);
    const work = mkdtempSync(join(tmpdir(), 'si-learn-'));
    try {
      const image = library.getImage(imageId);
      const masks = library.listMasks(image.id).filter((m) => (values.mask ? m.id === values.mask : m.classWord === classWord));
      const mask = masks[0];
      if (!mask) throw new AppError('not-found', `No ${values.mask ? `mask ${String(values.mask)}` : `"${classWord}" mask`} for ${image.id}; make one with \`singleinsert mask ${image.id} --class ${classWord} --point x,y\`.`);
      const options = {
        ...PAPER_SETTINGS,
        steps1: intOption(values, 'steps1', 0, 10_000) ?? PAPER_SETTINGS.steps1,
        steps2: intOption(values, 'steps2', 0, 10_000) ?? PAPER_SETTINGS.steps2,
        batch: intOption(values, 'batch', 1, 64) ?? PAPER_SETTINGS.batch,
        seed: intOption(values, 'seed', 0, 2 ** 31 - 1) ?? 0,
        provider: (values.provider ?? 'cpu') as ExecutionProvider,
        cacheDir: join(global.dataDir, 'cache', 'graphs'),
        onProgress: (p: { stage: 1 | 2; step: number; total: number; loss: number }) => io.err(`stage ${p.stage} · step ${p.step}/${p.total} · loss ${p.loss.toFixed(5)}`),
        onLog: (line: string) => io.err(line),
      };
      const example = await prepareExample(sd, vision.config, await library.store.read(image.sha256), await library.store.read(mask.sha256), classWord, {
        cacheDir: options.cacheDir,
        provider: options.provider,
        ...(values.latent ? { latentSize: intOption(values, 'latent', 1, 256)! } : {}),
      });
      const started = performance.now();
      const learned = await learnConcept(sd, vision, example, { ...options, ...(await memoryBudget(options.provider, values['max-memory'])) });
      const file = join(work, 'concept.safetensors');
      writeConceptFile(file, learned.token, learned.lora, { classWord, baseModel: sdModel.modelId ?? sd.label, loraRank: options.loraRank });
      const concept = await library.addConcept({
        name: String(values.name ?? `${classWord} from ${image.name}`),
        classWord,
        imageId: image.id,
        maskId: mask.id,
        baseModelId: sdModel.modelId,
        file: readFileSync(file),
      });
      io.out(`${concept.id}\t${concept.name}`);
      io.err(`Learned in ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
      io.err(`Use it: singleinsert generate --model ${String(values.model)} --concept ${concept.id} --prompt "* ${classWord} …"`);
      return 0;
    } finally {
      rmSync(work, { recursive: true, force: true });
      library.close();
    }
  },
};
