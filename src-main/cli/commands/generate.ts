import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExecutionProvider } from '../../graph/runtime/providers.js';
import { Library } from '../../library/library.js';
import { defaultSettings, generateImages } from '../../pipeline/sample/generate.js';
import type { SamplerName } from '../../schedulers/sampler.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { readConceptFile } from '../../pipeline/compose/concept-file.js';
import type { Command } from '../command.js';
import { resolveModelPath } from '../../model-manager/resolve-model.js';
import { intOption, UsageError } from '../command.js';

const SAMPLERS: SamplerName[] = ['ddim', 'euler', 'dpmpp2m'];
const PROVIDERS: ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Generate images with a Stable Diffusion 1.x model (diffusers folder, single .safetensors file, or installed model id/name).',
  usage: 'generate --model <dir|file|model> --prompt "…" [--negative "…"] [--steps 50] [--guidance 7.5] [--seed N] [--count 1] [--sampler ddim|euler|dpmpp2m] [--width W --height H] [--provider cpu|webgpu|cuda] [--concept [*N=]con_id]… [--out dir]',
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    negative: { type: 'string' },
    steps: { type: 'string' },
    guidance: { type: 'string' },
    seed: { type: 'string' },
    count: { type: 'string' },
    sampler: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    provider: { type: 'string' },
    out: { type: 'string' },
    concept: { type: 'string', multiple: true },
  },
  run: async ({ values, global, io }) => {
    if (!values.model) throw new UsageError('generate needs --model (a diffusers folder or a .safetensors file)');
    if (!values.prompt) throw new UsageError('generate needs --prompt');
    const sampler = (values.sampler ?? 'ddim') as SamplerName;
    if (!SAMPLERS.includes(sampler)) throw new UsageError(`--sampler must be one of ${SAMPLERS.join(', ')}`);
    const provider = (values.provider ?? 'cpu') as ExecutionProvider;
    if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
    const guidance = values.guidance === undefined ? 7.5 : Number(values.guidance);
    if (!Number.isFinite(guidance) || guidance < 0 || guidance > 50) throw new UsageError('--guidance must be a number from 0 to 50');

    const { path: modelPath, modelId } = resolveModelPath(global.dataDir, String(values.model));
    const model = openStableDiffusion(modelPath);
    const settings = defaultSettings(model, {
      prompt: String(values.prompt),
      negative: String(values.negative ?? ''),
      sampler,
      guidance,
      steps: intOption(values, 'steps', 1, 1000) ?? 50,
      seed: intOption(values, 'seed', 0, 2 ** 31 - 1) ?? randomInt(2 ** 31 - 1),
      count: intOption(values, 'count', 1, 64) ?? 1,
      ...(values.width ? { width: intOption(values, 'width', 8, 4096)! } : {}),
      ...(values.height ? { height: intOption(values, 'height', 8, 4096)! } : {}),
    });
    io.err(`${model.label}: ${settings.count} image(s), ${settings.width}×${settings.height}, ${settings.steps} ${settings.sampler} steps, guidance ${settings.guidance}, seed ${settings.seed}, ${provider}`);
    const library = Library.open(global.dataDir);
    try {
      // --concept con_a --concept *2=con_b: the first goes to "*", the next to "*2", unless named
      const concepts = ((values.concept as string[] | undefined) ?? []).map((arg, i) => {
        const m = /^(\*\d*)=(.+)$/.exec(arg);
        const placeholder = m ? m[1]! : i === 0 ? '*' : `*${i + 1}`;
        const id = m ? m[2]! : arg;
        return { placeholder, concept: readConceptFile(library.conceptFilePath(id), id) };
      });
      const { images, fallback } = await generateImages(model, settings, {
        concepts,
        provider,
        cacheDir: join(global.dataDir, 'cache', 'graphs'),
        onProgress: (p) => io.err(`step ${p.step}/${p.total} · ETA ${Math.ceil(p.etaMs / 1000)} s`),
      });
      if (fallback) io.err(fallback);
      const outDir = resolve(String(values.out ?? 'generated'));
      mkdirSync(outDir, { recursive: true });
      for (const image of images) {
        const row = await library.addGeneration({ prompt: settings.prompt, negative: settings.negative, settings: { ...settings, seed: image.seed, count: 1, model: model.label }, modelId, png: image.png });
        const path = join(outDir, `${row.id}-seed${image.seed}.png`);
        writeFileSync(path, image.png);
        io.out(path);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
