// The report card's cost at SD 1.5 scale (issue 25), for `npm run bench:sd`: the default set drawn with a random
// SD 1.5 checkpoint and measured with CLIP ViT-B/32, DINO ViT-S/16 and LPIPS-AlexNet shapes (random weights),
// through `singleinsert evaluate` in its own process, as a user runs it. Reports its time and peak memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../../graph/random.js';
import { Library } from '../../library/library.js';
import { SD15_CLIP_TEXT } from '../../models/clip-text.js';
import { DINO_VIT_S16 } from '../../models/dino-vit.js';
import { adaptedLayers } from '../../models/lora-modules.js';
import { LPIPS_ALEX } from '../../models/lpips.js';
import { SD15_UNET } from '../../models/unet.js';
import { SD15_VAE } from '../../models/vae.js';
import { CLIP_VIT_B32 } from '../../models/vision.js';
import { PROJECT_ROOT } from '../../common/project-root.js';
import { fastRandomFill, sdWeights, writeSingleFileCheckpoint } from '../../weights/random-checkpoint.js';
import { writeClipModelFolder, writeDinoFolder, writeLpipsFile } from '../../weights/random-metric-models.js';
import { writeConceptFile } from '../compose/concept-file.js';
import type { EvaluationReport } from '../../../src-preload/contract/evaluations.js';

/** openai/clip-vit-base-patch32's shapes: the vision tower of CLIP_VIT_B32, a 512-wide text tower, a 512-wide joint space. */
const CLIP_B32_MODEL = {
  vision: CLIP_VIT_B32,
  text: { ...SD15_CLIP_TEXT, hiddenSize: 512, intermediateSize: 2048, heads: 8 },
  projectionDim: 512,
  eosTokenId: 49407,
};

function once(path: string, write: (partial: string) => void): string {
  if (!existsSync(path)) {
    rmSync(`${path}.partial`, { recursive: true, force: true });
    write(`${path}.partial`);
    renameSync(`${path}.partial`, path);
  }
  return path;
}

export async function benchEvaluate(dir: string): Promise<Record<string, unknown>> {
  mkdirSync(dir, { recursive: true });
  const sd = once(join(dir, 'sd15-random-v1.safetensors'), (p) =>
    writeSingleFileCheckpoint(
      p,
      { unet: SD15_UNET, text: SD15_CLIP_TEXT, vae: SD15_VAE },
      sdWeights({ unet: SD15_UNET, text: SD15_CLIP_TEXT, vae: SD15_VAE }, fastRandomFill(1)),
    ),
  );
  const clip = once(join(dir, 'clip-vit-b32-full-random-v1'), (p) => writeClipModelFolder(p, CLIP_B32_MODEL, fastRandomFill(3)));
  const dino = once(join(dir, 'dino-vits16-random-v1'), (p) => writeDinoFolder(p, DINO_VIT_S16, fastRandomFill(4)));
  const lpips = once(join(dir, 'lpips-alex-random-v1.safetensors'), (p) => writeLpipsFile(p, LPIPS_ALEX, fastRandomFill(5)));

  const data = join(dir, 'evaluate-library');
  rmSync(data, { recursive: true, force: true });
  const cli = join(PROJECT_ROOT, 'bin', 'singleinsert.js');
  const sh = (args: string[]) => execFileSync(process.execPath, [cli, ...args, '--data-dir', data], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const model of [sd, clip, dino, lpips]) sh(['models', 'add', model]);
  const imageId = sh(['import', join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'images', 'dog_00.jpg'), '--json']).match(/img_[a-z0-9]+/)![0];
  sh(['mask', imageId, '--class', 'dog', '--point', '390,390']);
  // a concept at SD 1.5's shapes: a token and a rank-4 LoRA on every adapted layer, seeded values
  const r = new SeededRandom(7);
  const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { module, inDim, outDim } of adaptedLayers(SD15_UNET, SD15_CLIP_TEXT)) {
    lora[`${module}.lora_A.weight`] = { shape: [4, inDim], data: r.normalArray(4 * inDim).map((v) => v / Math.sqrt(inDim)) };
    lora[`${module}.lora_B.weight`] = { shape: [outDim, 4], data: r.normalArray(outDim * 4).map((v) => v * 0.01) };
  }
  const file = join(dir, 'concept.safetensors');
  writeConceptFile(
    file,
    r.normalArray(SD15_CLIP_TEXT.hiddenSize).map((v) => v * 0.02),
    lora,
    { classWord: 'dog', baseModel: 'bench', loraRank: 4 },
  );
  const library = Library.open(data);
  let conceptId: string;
  try {
    const mask = library.masks.list(imageId)[0]!;
    conceptId = (await library.concepts.add({ name: 'bench dog', classWord: 'dog', imageId, maskId: mask.id, baseModelId: null, file: readFileSync(file) })).id;
  } finally {
    library.close();
  }
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [cli, 'evaluate', conceptId, '--model', sd, '--provider', 'cpu', '--json', '--data-dir', data], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const wallMs = Math.round(performance.now() - t0);
  if (run.status !== 0) throw new Error(`singleinsert evaluate failed (exit ${run.status}): ${run.stderr.split('\n').slice(-4).join(' | ')}`);
  const report = JSON.parse(run.stdout) as EvaluationReport;
  writeFileSync(join(dir, 'evaluate-report.json'), run.stdout);
  return {
    case: 'evaluate_default_set',
    what: '`singleinsert evaluate` with the default set on the random SD 1.5 file, CLIP ViT-B/32, DINO ViT-S/16 and LPIPS-AlexNet shapes (CPU)',
    images: report.cost.images,
    set: `${report.set.prompts.length} prompts × ${report.set.seeds} seeds, ${report.set.sampler} ${report.set.steps} steps, ${report.set.width}×${report.set.height}`,
    wallMs,
    reportSeconds: report.cost.seconds,
    peakRssMB: Math.round(report.cost.peakRssBytes / 2 ** 20),
    measured: Object.fromEntries(Object.entries(report.metrics).map(([k, m]) => [k, m.value === null ? null : Math.round(m.value * 1000) / 1000])),
    stderrTail: run.stderr
      .split('\n')
      .filter((l) => l.startsWith('Note') || /measuring: image \d+ of/.test(l))
      .slice(-4),
  };
}
