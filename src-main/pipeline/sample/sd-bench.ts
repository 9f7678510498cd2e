// `npm run bench:sd`: one UNet step (batch 2, as with guidance), one VAE decode and one TAESD decode on the CPU EP,
// for the tiny test configuration and for SD 1.5's real shapes with random weights; from them an image's time as a
// full drawing (DDIM 50 + VAE) and as a draft (LCM 4 + TAESD); then the report card's default set at SD 1.5 scale
// (evaluate-bench.ts). Prints JSON.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../../graph/graph.js';
import { writeModel } from '../../graph/onnx/serialize.js';
import { SeededRandom } from '../../graph/random.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { GraphSession, type HostTensor } from '../../graph/runtime/session.js';
import { numel } from '../../graph/shape.js';
import { weightsFrom } from '../../models/params.js';
import { SD15_TAESD, taesdDecode, type TaesdConfig } from '../../models/taesd.js';
import { TINY_CLIP_TEXT, TINY_TAESD, TINY_UNET, TINY_VAE } from '../../models/tiny-configs.js';
import { DRAFT_PRESET } from '../../../src-preload/contract/compose.js';
import { learnSettings } from '../../../src-preload/contract/training.js';
import { unguided } from '../compose/guidance.js';
import { SD15_CLIP_TEXT } from '../../models/clip-text.js';
import { SD15_UNET, unet, type UNetConfig } from '../../models/unet.js';
import { SD15_VAE, vaeDecode, type VaeConfig } from '../../models/vae.js';
import { RandomSource } from '../../weights/sources.js';
import { benchEvaluate } from '../evaluate/evaluate-bench.js';

interface Target {
  unet: UNetConfig;
  vae: VaeConfig;
  taesd: TaesdConfig;
  textDim: number;
}
const TARGETS: Record<string, Target> = {
  tiny: { unet: TINY_UNET, vae: TINY_VAE, taesd: TINY_TAESD, textDim: TINY_CLIP_TEXT.hiddenSize },
  sd15: { unet: SD15_UNET, vae: SD15_VAE, taesd: SD15_TAESD, textDim: SD15_CLIP_TEXT.hiddenSize },
};
type Part = 'unet' | 'unet1' | 'vae' | 'taesd';
const PART_NAMES: Record<Part, string> = { unet: 'unet_step_batch2', unet1: 'unet_step_batch1', vae: 'vae_decode', taesd: 'taesd_decode' };

function build(target: Target, part: Part): { graph: Graph; feeds: Record<string, HostTensor> } {
  const g = new Graph(part);
  const source = new RandomSource(1);
  const rng = new SeededRandom(2);
  const s = target.unet.sampleSize;
  const feed = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: rng.normalArray(numel(shape)) });
  if (part === 'unet' || part === 'unet1') {
    // batch 2 with guidance; batch 1 at guidance 1 (the draft), where the unconditional half is left out
    const b = part === 'unet' ? 2 : 1;
    const shapes = { sample: [b, 4, s, s], timestep: [b], encoder_hidden_states: [b, 77, target.textDim] };
    const eps = unet(weightsFrom(g, source, { prefix: 'unet.' }), target.unet, {
      sample: g.input('sample', 'float32', shapes.sample),
      timestep: g.input('timestep', 'float32', shapes.timestep),
      encoderHiddenStates: g.input('encoder_hidden_states', 'float32', shapes.encoder_hidden_states),
    });
    g.output(eps, 'eps');
    return {
      graph: g,
      feeds: {
        sample: feed(shapes.sample),
        timestep: { dtype: 'float32', shape: [b], data: new Float32Array(b).fill(500) },
        encoder_hidden_states: feed(shapes.encoder_hidden_states),
      },
    };
  }
  const latents = g.input('latents', 'float32', [1, 4, s, s]);
  g.output(
    part === 'taesd' ? taesdDecode(weightsFrom(g, source), target.taesd, latents) : vaeDecode(weightsFrom(g, source, { prefix: 'vae.' }), target.vae, latents),
    'image',
  );
  return { graph: g, feeds: { latents: feed([1, 4, s, s]) } };
}

async function measure(targetName: string, part: Part, provider: ExecutionProvider, runs: number) {
  const t0 = performance.now();
  const { graph, feeds } = build(TARGETS[targetName]!, part);
  const buildMs = performance.now() - t0;
  const dir = mkdtempSync(join(tmpdir(), 'si-bench-'));
  try {
    const { modelPath, weightBytes } = writeModel(graph, dir);
    const t1 = performance.now();
    const session = await GraphSession.load(modelPath, { provider });
    const loadMs = performance.now() - t1;
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const start = performance.now();
      await session.run(feeds);
      if (i > 0) times.push(performance.now() - start); // run 0 warms up
    }
    await session.release();
    times.sort((a, b) => a - b);
    return {
      target: targetName,
      part: PART_NAMES[part],
      provider: session.provider,
      fallback: session.fallback,
      nodes: graph.nodes.length,
      weightMB: Math.round(weightBytes / 1e5) / 10,
      buildAndRandomWeightsMs: Math.round(buildMs),
      sessionLoadMs: Math.round(loadMs),
      medianMs: Math.round(times[Math.floor(times.length / 2)]!),
      minMs: Math.round(times[0]!),
      runs,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [, , target, part, provider = 'cpu', runs] = process.argv;
if (target === 'evaluate') {
  // the report card's default set at SD 1.5 scale (tens of minutes on a 2-core CPU)
  process.stdout.write(JSON.stringify(await benchEvaluate(process.env.SINGLEINSERT_BENCH_DIR ?? join(tmpdir(), 'singleinsert-bench'))));
} else if (target) {
  process.stdout.write(JSON.stringify(await measure(target, part as Part, provider as ExecutionProvider, Number(runs ?? 3))));
} else {
  const self = fileURLToPath(import.meta.url);
  const wanted = process.env.BENCH_PROVIDER ?? 'cpu';
  const plan: Array<[string, string, number]> = [
    ['tiny', 'unet', 10],
    ['tiny', 'vae', 10],
    ['tiny', 'taesd', 10],
    ['tiny', 'unet1', 10],
    ['sd15', 'unet', Number(process.env.BENCH_RUNS ?? 2)],
    ['sd15', 'unet1', Number(process.env.BENCH_RUNS ?? 2)],
    ['sd15', 'vae', Number(process.env.BENCH_RUNS ?? 2)],
    ['sd15', 'taesd', Number(process.env.BENCH_RUNS ?? 2)],
  ];
  const results: Array<Record<string, unknown>> = plan.map(([t, p, r]) =>
    JSON.parse(execFileSync(process.execPath, [self, t, p, wanted, String(r)], { encoding: 'utf8', maxBuffer: 1 << 24 })),
  );
  // one 512² image, from the measured parts: the default drawing against the Draft (LCM) preset (guidance 1: one
  // batch); and a training preview (its default steps, guidance 7.5) decoded by the VAE against TAESD
  for (const t of ['tiny', 'sd15']) {
    const ms = (part: Part) => results.find((r) => r.target === t && r.part === PART_NAMES[part])!.medianMs as number;
    const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
    const full = 50 * ms('unet') + ms('vae');
    const draft = DRAFT_PRESET.steps * ms(unguided(DRAFT_PRESET.guidance) ? 'unet1' : 'unet') + ms('taesd');
    results.push({ target: t, part: 'image_full_vs_draft', fullMs: full, draftMs: draft, speedup: ratio(full, draft), draft: DRAFT_PRESET });
    const steps = learnSettings.parse({}).previewSteps;
    const [byVae, byTaesd] = [steps * ms('unet') + ms('vae'), steps * ms('unet') + ms('taesd')];
    results.push({ target: t, part: 'training_preview_vae_vs_taesd', previewSteps: steps, vaeMs: byVae, taesdMs: byTaesd, speedup: ratio(byVae, byTaesd) });
  }
  // BENCH_EVALUATE=0 leaves out the report card's case (the longest)
  if (process.env.BENCH_EVALUATE !== '0')
    results.push(JSON.parse(execFileSync(process.execPath, [self, 'evaluate'], { encoding: 'utf8', maxBuffer: 1 << 24 })));
  console.log(JSON.stringify({ bench: 'sd', date: new Date().toISOString(), node: process.versions.node, results }, null, 2));
}
