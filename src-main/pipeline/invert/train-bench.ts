// `npm run bench:train`: training at Stable Diffusion 1.5 scale on this machine, as JSON. SD 1.5's
// shapes with random weights, written once to a real single-file .safetensors checkpoint (and a CLIP
// ViT-B/32 folder) and opened the way a user's files are. Each case runs in its own process, so its
// peak RSS is its own. `--with-torch` runs the PyTorch-CPU peer (../shared/peer-bench) in the same run
// and reports engine / PyTorch ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import { SeededRandom } from '../../graph/random.js';
import { sessionForGraph } from '../../graph/runtime/session.js';
import type { StepRunner } from '../../graph/runtime/trainer.js';
import { SD15_CLIP_TEXT } from '../../models/clip-text.js';
import { weightsFrom } from '../../models/params.js';
import { SD15_UNET, unet, type UNetConfig } from '../../models/unet.js';
import { SD15_VAE } from '../../models/vae.js';
import { CLIP_VIT_B32 } from '../../models/vision.js';
import { scaledLinearSchedule } from '../../schedulers/ddpm-schedule.js';
import { openClipVision } from '../../weights/clip-vision-loader.js';
import { fastRandomFill, sdWeights, writeClipVisionFolder, writeSingleFileCheckpoint } from '../../weights/random-checkpoint.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import { RandomSource } from '../../weights/sources.js';
import { type ConceptExample, stepFeeds } from './step-feeds.js';
import { buildSingleInsertStep, type SingleInsertModels, type StepOptions } from './training-step.js';
import { createStepRunner, describePlan, type MemoryPlan } from '../../graph/runtime/memory-plan.js';
import { keepFreedMemory } from '../../system/malloc-tune.js';

const SELF = fileURLToPath(import.meta.url);
const PROJECT = resolve(dirname(SELF), '../../../..');
/**
 * The peer runs with glibc keeping freed memory for reuse (its README). The engine runs as the app does:
 * default glibc, and training steps switch the same behaviour on themselves (system/malloc-tune.ts).
 */
const GLIBC_TUNABLES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736';

/** The PyTorch peer's tiny UNet (peer-bench/tiny-unet/config.json) in our config. */
const PEER_TINY: UNetConfig = { ...SD15_UNET, sampleSize: 16, blockOutChannels: [32, 64], attentionLevels: [true, false], crossAttentionDim: 32 };

interface CaseResult {
  case: string;
  what: string;
  medianMs: number;
  minMs: number;
  runs: number;
  peakRssMB: number;
  plan?: Omit<MemoryPlan, 'split'>;
  [extra: string]: unknown;
}

type CaseFn = (ctx: { checkpoint: string; vision: string; runs: number }) => Promise<CaseResult>;

/** Times `fn` after one warm-up: median and minimum. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ medianMs: number; minMs: number; firstMs: number }> {
  const t0 = performance.now();
  await fn();
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return { medianMs: round(times[Math.floor(times.length / 2)]!), minMs: round(times[0]!), firstMs: round(firstMs) };
}

const round = (x: number) => Math.round(x * 10) / 10;
const peakRssMB = () => round(process.resourceUsage().maxRSS / 1024);

/** UNet forward through one session, weights read in place from the checkpoint (as sampling runs it). */
function unetForward(batch: number, tiny: boolean): CaseFn {
  return async ({ checkpoint, runs }) => {
    const cfg = tiny ? PEER_TINY : SD15_UNET;
    const [h, w] = tiny ? [16, 24] : [64, 64];
    const ctx = tiny ? 32 : 768;
    const g = new Graph('unet');
    const p = weightsFrom(g, tiny ? new RandomSource(1) : openStableDiffusion(checkpoint).unet.source, { prefix: 'unet.' });
    g.output(
      unet(p, cfg, {
        sample: g.input('sample', 'float32', [batch, 4, h, w]),
        timestep: g.input('timestep', 'float32', [batch]),
        encoderHiddenStates: g.input('ehs', 'float32', [batch, 77, ctx]),
      }),
      'eps',
    );
    const t0 = performance.now();
    const session = await sessionForGraph(g, { cacheDir: join(benchDir(), 'graphs') });
    const loadMs = round(performance.now() - t0);
    const r = new SeededRandom(2);
    const feeds = {
      sample: { dtype: 'float32' as const, shape: [batch, 4, h, w], data: r.normalArray(batch * 4 * h * w) },
      timestep: { dtype: 'float32' as const, shape: [batch], data: Float32Array.from({ length: batch }, (_, i) => 500 + 100 * i) },
      ehs: { dtype: 'float32' as const, shape: [batch, 77, ctx], data: r.normalArray(batch * 77 * ctx) },
    };
    const t = await timed(runs, () => session.run(feeds));
    await session.release();
    return {
      case: `${tiny ? 'tiny' : 'unet_b' + batch}_fwd`,
      what: `UNet forward, batch ${batch}, one session`,
      ...t,
      runs,
      sessionLoadMs: loadMs,
      peakRssMB: peakRssMB(),
    };
  };
}

/** UNet forward + gradient w.r.t. encoder_hidden_states (loss mean(ε̂²)), the Stage I pattern; the plan picks one graph or segments. */
function unetGradEhs(batch: number, tiny: boolean): CaseFn {
  return async ({ checkpoint, runs }) => {
    const cfg = tiny ? PEER_TINY : SD15_UNET;
    const [h, w] = tiny ? [16, 24] : [64, 64];
    const ctx = tiny ? 32 : 768;
    const source = tiny ? new RandomSource(1) : openStableDiffusion(checkpoint).unet.source;
    const r = new SeededRandom(2);
    const ehs = r.normalArray(batch * 77 * ctx);
    const t0 = performance.now();
    const { runner, plan } = await createStepRunner(
      {
        build: (g) => {
          const e = g.param('encoder_hidden_states', [batch, 77, ctx]);
          const eps = unet(weightsFrom(g, source, { prefix: 'unet.' }), cfg, {
            sample: g.input('sample', 'float32', [batch, 4, h, w]),
            timestep: g.input('timestep', 'float32', [batch]),
            encoderHiddenStates: e,
          });
          return { loss: op.meanAll(op.mul(eps, eps)), params: [e], initialParams: { encoder_hidden_states: ehs } };
        },
        optimizer: { weightDecay: 0 },
        cacheDir: join(benchDir(), 'graphs'),
      },
      { batch: 1, label: 'UNet forward + gradient w.r.t. encoder_hidden_states' },
    );
    const loadMs = round(performance.now() - t0);
    const feeds = {
      sample: { dtype: 'float32' as const, shape: [batch, 4, h, w], data: r.normalArray(batch * 4 * h * w) },
      timestep: { dtype: 'float32' as const, shape: [batch], data: Float32Array.from({ length: batch }, (_, i) => 500 + 100 * i) },
    };
    const t = await timed(runs, () => runner.step([feeds], 0));
    reportProfile(runner, t.minMs);
    await runner.release();
    return {
      case: `${tiny ? 'tiny' : 'unet_b' + batch}_fwd_bwd_ehs`,
      what: `UNet forward + gradient w.r.t. encoder_hidden_states, batch ${batch}`,
      ...t,
      runs,
      setupMs: loadMs,
      plan: strip(plan),
      peakRssMB: peakRssMB(),
    };
  };
}

/** One full SingleInsert step (batch 4) on the checkpoint and a CLIP ViT-B/32. */
function singleInsertStep(stage: 1 | 2): CaseFn {
  return async ({ checkpoint, vision, runs }) => {
    const sd = openStableDiffusion(checkpoint);
    const v = openClipVision(vision, sd.textEncoder.config.hiddenSize);
    const models: SingleInsertModels = { unet: sd.unet, textEncoder: sd.textEncoder, vision: v, mapper: new RandomSource(4) };
    const options: StepOptions = { stage, trainVision: true, loraRank: 4 };
    const example = randomExample(sd.tokenizer, v.config.imageSize);
    const t0 = performance.now();
    const { runner, plan } = await createStepRunner(
      {
        build: (g, mb) => buildSingleInsertStep(g, models, { batch: mb, latent: [64, 64] }, options),
        optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
        cacheDir: join(benchDir(), 'graphs'),
      },
      // the memory a float16 run would have on an 8 GB GPU, doubled for float32: the plan fits the step into it
      { batch: 4, label: `Stage ${stage} step`, availableBytes: STEP_BUDGET_BYTES },
    );
    const setupMs = round(performance.now() - t0);
    const rng = new SeededRandom(7);
    const schedule = scaledLinearSchedule();
    let losses: number[] = [];
    const t = await timed(runs, async () => {
      const result = await runner.step(plan.split(stepFeeds(example, { batch: 4, latent: [64, 64] }, rng, schedule)), stage === 1 ? 1e-4 : 5e-5);
      losses.push(result.loss);
    });
    losses = losses.map(round);
    await runner.release();
    return {
      case: `stage${stage}_step`,
      what: `SingleInsert Stage ${stage === 1 ? 'I' : 'II'} step, batch 4, 512² (64² latents), ViT-B/32 encoder trained`,
      ...t,
      runs,
      setupMs,
      losses,
      plan: strip(plan),
      peakRssMB: peakRssMB(),
    };
  };
}

function randomExample(tokenizer: ReturnType<typeof openStableDiffusion>['tokenizer'], imageSize: number): ConceptExample {
  const r = new SeededRandom(5);
  const concept = tokenizer.encode('* dog', ['*']);
  const mask = new Float32Array(64 * 64);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) mask[y * 64 + x] = 1;
  return {
    x0: r.normalArray(4 * 64 * 64),
    mask,
    pixels: r.normalArray(3 * imageSize * imageSize),
    idsConcept: concept.ids,
    idsClass: tokenizer.encode('dog').ids,
    placeholderPosition: concept.placeholders[0]!.position,
  };
}

/** The engine's side of graph-bench's SD 1.5 block cases (one ResNet + transformer block at 320 ch, 64²). */
function blockCase(mode: 'forward' | 'step'): CaseFn {
  return async ({ runs }) => {
    const out = execFileSync(process.execPath, [join(dirname(SELF), '../../graph/bench/graph-bench.js'), 'resnet_xattn_320', mode, 'cpu', String(runs)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      env: childEnv(),
    });
    const r = JSON.parse(out) as { medianMs: number; minMs: number; peakRssMB: number };
    return {
      ...r,
      case: mode === 'forward' ? 'block_fwd' : 'block_fwd_bwd_adamw',
      what: `SD 1.5 ResNet + transformer block, 320 ch, 64², ${mode === 'forward' ? 'forward' : 'forward + backward + AdamW'} (graph-bench's resnet_xattn_320)`,
      runs,
    };
  };
}

/** Memory the Stage I / II cases are given (the target: ≤ 10 GB in float32). */
const STEP_BUDGET_BYTES = 10 * 2 ** 30;

/**
 * `singleinsert learn` end to end on the random checkpoint: import, SAM mask, Stage I and II (one step
 * each), with one test prompt drawn after step 1 (beside the Stage I trainer, on its weights) and from
 * the finished concept.
 */
const learnCli: CaseFn = async ({ checkpoint, vision }) => {
  const data = join(benchDir(), 'learn-library');
  rmSync(data, { recursive: true, force: true });
  const cli = join(PROJECT, 'bin', 'singleinsert.js');
  const photo = resolve(PROJECT, '../shared/fixtures/images/dog_00.jpg');
  const sh = (args: string[]) =>
    execFileSync(process.execPath, [cli, ...args, '--data-dir', data], {
      encoding: 'utf8',
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 26,
    });
  const imageId = sh(['import', photo, '--json']).match(/img_[A-Za-z0-9]+/)![0];
  sh(['mask', imageId, '--class', 'dog', '--point', '390,390', '--out', join(data, 'mask.png')]);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'learn',
      imageId,
      '--class',
      'dog',
      '--model',
      checkpoint,
      '--encoder',
      vision,
      '--steps1',
      '1',
      '--steps2',
      '1',
      '--preview',
      '* {class} as a marble statue',
      '--preview-every',
      '1',
      '--preview-steps',
      '2',
      '--max-memory',
      String(STEP_BUDGET_BYTES / 2 ** 30),
      '--data-dir',
      data,
    ],
    { encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 26 },
  );
  const ms = round(performance.now() - t0);
  const log = (r.stderr ?? '').split('\n').filter((l) => !/onnxruntime/.test(l) && l.trim());
  if (r.status !== 0) throw new Error(`singleinsert learn failed (exit ${r.status}): ${log.slice(-3).join(' | ')}`);
  const peak = r.stderr.match(/peak RSS ([\d.]+) MB/);
  return {
    case: 'learn_cli',
    what: '`singleinsert learn` on the random SD 1.5 file: photo → VAE latents → 1 Stage I step → preview (1 prompt, 2 DDIM steps, 512²) → 1 Stage II step → concept in the library → its preview',
    medianMs: ms,
    minMs: ms,
    runs: 1,
    peakRssMB: peak ? Number(peak[1]) : NaN,
    log: log.filter((l) => /plan|step|concept|con_|Preview/.test(l)),
  };
};

/**
 * The memory plan against the process's measured peak: `learn --batch 4`, one step of each stage, no previews,
 * the plan given the machine's free memory (or SINGLEINSERT_BENCH_MAX_MEMORY GB). The estimate should bound the
 * peak, at most 10% above it (issue 23).
 */
const learnPlan: CaseFn = async ({ checkpoint, vision }) => {
  const data = join(benchDir(), 'plan-library');
  rmSync(data, { recursive: true, force: true });
  const cli = join(PROJECT, 'bin', 'singleinsert.js');
  const sh = (args: string[]) =>
    execFileSync(process.execPath, [cli, ...args, '--data-dir', data], { encoding: 'utf8', env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const imageId = sh(['import', resolve(PROJECT, '../shared/fixtures/images/dog_00.jpg'), '--json']).match(/img_[A-Za-z0-9]+/)![0];
  sh(['mask', imageId, '--class', 'dog', '--point', '390,390', '--out', join(data, 'mask.png')]);
  const maxMemory = process.env.SINGLEINSERT_BENCH_MAX_MEMORY;
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [cli, 'learn', imageId, '--class', 'dog', '--model', checkpoint, '--encoder', vision, '--steps1', '1', '--steps2', '1', '--batch', '4', '--no-previews']
      .concat(maxMemory ? ['--max-memory', maxMemory] : [])
      .concat(['--data-dir', data]),
    { encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 26 },
  );
  const ms = round(performance.now() - t0);
  const log = (r.stderr ?? '').split('\n').filter((l) => !/onnxruntime/.test(l) && l.trim());
  if (r.status !== 0) throw new Error(`singleinsert learn failed (exit ${r.status}): ${log.slice(-3).join(' | ')}`);
  const stages = [...r.stderr.matchAll(/(Stage I+) memory: peak ([\d.]+) GB resident \(the plan estimated ([\d.]+) GB\)/g)].map((m) => ({
    stage: m[1]!,
    peakGb: Number(m[2]),
    estimateGb: Number(m[3]),
    estimateOverPeak: round((Number(m[3]) / Number(m[2])) * 1000) / 1000,
  }));
  const peak = r.stderr.match(/peak RSS ([\d.]+) MB/);
  return {
    case: 'learn_plan',
    what: "`singleinsert learn --batch 4 --steps1 1 --steps2 1` on the random SD 1.5 file, no previews: each stage's estimated and measured peak",
    medianMs: ms,
    minMs: ms,
    runs: 1,
    peakRssMB: peak ? Number(peak[1]) : NaN,
    stages,
    log: log.filter((l) => /plan|memory|step|Runs on/.test(l)),
  };
};

/** Timed runs per case, as the peer times them (after one warm-up): many for the fast cases. */
const CASES: Record<string, { fn: CaseFn; torch?: string; runs?: number; /** runs as a training run does (malloc keeps freed memory) */ training?: boolean }> =
  {
    tiny_fwd: { fn: unetForward(2, true), torch: 'tiny_fwd', runs: 30 },
    tiny_fwd_bwd_ehs: { fn: unetGradEhs(2, true), torch: 'tiny_fwd_bwd_ehs', runs: 30, training: true },
    block_fwd: { fn: blockCase('forward'), torch: 'block_fwd', runs: 10 },
    block_fwd_bwd_adamw: { fn: blockCase('step'), torch: 'block_fwd_bwd_adamw', runs: 7 },
    unet_b1_fwd: { fn: unetForward(1, false), torch: 'unet_b1_fwd' },
    unet_b2_fwd: { fn: unetForward(2, false), torch: 'unet_b2_fwd' },
    unet_b1_fwd_bwd_ehs: { fn: unetGradEhs(1, false), torch: 'unet_b1_fwd_bwd_ehs', training: true },
    unet_b2_fwd_bwd_ehs: { fn: unetGradEhs(2, false), torch: 'unet_b2_fwd_bwd_ehs', training: true },
    stage1_step: { fn: singleInsertStep(1), training: true },
    stage2_step: { fn: singleInsertStep(2), training: true },
    learn_cli: { fn: learnCli },
    learn_plan: { fn: learnPlan },
  };

function benchDir(): string {
  return process.env.SINGLEINSERT_BENCH_DIR ?? join(tmpdir(), 'singleinsert-bench');
}

/** The engine's processes: the environment without GLIBC_TUNABLES (as a user's app runs). */
const childEnv = () => {
  const { GLIBC_TUNABLES: _omit, ...env } = process.env;
  return env;
};

/** The random SD 1.5 checkpoint and ViT-B/32, written once and reused. */
function ensureCheckpoint(): { checkpoint: string; vision: string } {
  const dir = benchDir();
  mkdirSync(dir, { recursive: true });
  const checkpoint = join(dir, 'sd15-random-v1.safetensors');
  const vision = join(dir, 'clip-vit-b32-random-v1');
  if (!existsSync(checkpoint)) {
    process.stderr.write('writing a random SD 1.5 checkpoint (once)…\n');
    const tmp = `${checkpoint}.partial.safetensors`;
    writeSingleFileCheckpoint(
      tmp,
      { unet: SD15_UNET, text: SD15_CLIP_TEXT, vae: SD15_VAE },
      sdWeights({ unet: SD15_UNET, text: SD15_CLIP_TEXT, vae: SD15_VAE }, fastRandomFill(1)),
    );
    renameSync(tmp, checkpoint);
  }
  if (!existsSync(join(vision, 'model.safetensors'))) {
    rmSync(vision, { recursive: true, force: true });
    writeClipVisionFolder(`${vision}.partial`, { ...CLIP_VIT_B32, tokenDim: 768 }, fastRandomFill(2));
    renameSync(`${vision}.partial`, vision);
  }
  return { checkpoint, vision };
}

/** The peer's figures for these cases, from its own run (each case in its own process). */
function runTorch(cases: string[], passes: number): Record<string, { medianMs: number; peakRssMB: number }> {
  const peer = resolve(PROJECT, '../shared/peer-bench');
  const src = join(benchDir(), 'diffusers-src');
  if (!existsSync(join(src, 'src', 'diffusers'))) {
    mkdirSync(src, { recursive: true });
    execFileSync('tar', ['-xzf', join(peer, 'diffusers-v0.31.0-src.tar.gz'), '-C', src]);
  }
  const out = join(benchDir(), 'torch-cpu.json');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(
    python,
    [
      join(peer, 'torch_cpu_bench.py'),
      '--cases',
      cases.join(','),
      '--passes',
      String(passes),
      '--no-profile',
      '--diffusers-src',
      join(src, 'src'),
      '--out',
      out,
    ],
    {
      env: { ...childEnv(), GLIBC_TUNABLES },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (r.status !== 0) throw new Error(`the PyTorch peer failed (exit ${r.status}); see its README for the set-up`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { cases: Record<string, { median_s: number; peak_rss_mib: number }> };
  return Object.fromEntries(Object.entries(report.cases).map(([name, c]) => [name, { medianMs: c.median_s * 1000, peakRssMB: c.peak_rss_mib }]));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const child = flag('--child');
  const runsFlag = flag('--runs');
  if (child) {
    const paths = ensureCheckpoint();
    if (CASES[child]!.training) keepFreedMemory();
    process.stdout.write(JSON.stringify(await CASES[child]!.fn({ ...paths, runs: Number(runsFlag ?? CASES[child]!.runs ?? 3) })));
    return;
  }
  const names = (flag('--cases') ?? Object.keys(CASES).join(',')).split(',').filter(Boolean);
  for (const n of names) if (!CASES[n]) throw new Error(`unknown case ${n}; known: ${Object.keys(CASES).join(', ')}`);
  ensureCheckpoint();
  const withTorch = args.includes('--with-torch');
  const torchCases = names.map((n) => CASES[n]!.torch).filter((t): t is string => !!t);
  const torch = withTorch && torchCases.length ? runTorch(torchCases, 1) : null;
  const results: Array<CaseResult & { torch?: { medianMs: number; peakRssMB: number }; ratio?: { time: number; memory: number } }> = [];
  for (const name of names) {
    process.stderr.write(`${name}…\n`);
    const runs = Number(runsFlag ?? CASES[name]!.runs ?? 3);
    const r = spawnSync(process.execPath, [SELF, '--child', name, '--runs', String(runs)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) {
      results.push({ case: name, what: 'failed', medianMs: NaN, minMs: NaN, runs, peakRssMB: NaN, error: `exit ${r.status ?? r.signal}` });
      continue;
    }
    const result = JSON.parse(r.stdout) as CaseResult;
    const peer = CASES[name]!.torch && torch?.[CASES[name]!.torch!];
    results.push(
      peer
        ? {
            ...result,
            torch: peer,
            ratio: { time: round((result.medianMs / peer.medianMs) * 100) / 100, memory: round((result.peakRssMB / peer.peakRssMB) * 100) / 100 },
          }
        : result,
    );
  }
  console.log(
    JSON.stringify(
      {
        bench: 'train',
        date: new Date().toISOString(),
        node: process.versions.node,
        cpus: cpus().length,
        provider: 'cpu',
        dtype: 'float32',
        peerGlibcTunables: GLIBC_TUNABLES,
        results,
        plans: results.filter((r) => r.plan).map((r) => `${r.case}: ${describePlan(r.plan!)}`),
      },
      null,
      2,
    ),
  );
}

/** With SINGLEINSERT_PROFILE set: where the last step's time went, on stderr. */
function reportProfile(runner: StepRunner, stepMs: number): void {
  const profile = (runner as { profile?: Array<{ run: number; kind: string; ms: number; outputs: string }> }).profile;
  if (!profile?.length) return;
  const last = profile.slice(-profile.length / 2);
  const total = (kind: string) => round(last.filter((p) => p.kind === kind).reduce((s, p) => s + p.ms, 0));
  process.stderr.write(`profile: forward ${total('fwd')} ms, backward ${total('bwd')} ms over ${last.length} runs; fastest step ${stepMs} ms\n`);
  for (const p of [...last].sort((a, b) => b.ms - a.ms).slice(0, 25))
    process.stderr.write(`  ${p.kind} #${p.run} ${round(p.ms)} ms ${p.outputs.slice(0, 100)}\n`);
}

const strip = ({ split: _split, ...rest }: MemoryPlan) => rest;
await main();
