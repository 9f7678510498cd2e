// `npm run bench:graph`: forward and training-step times and peak memory on the CPU EP, as JSON.
// Each case runs in its own process so its peak RSS is its own.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { grad } from '../autodiff.js';
import { Graph } from '../graph.js';
import type { Tensor } from '../ir.js';
import { attention, groupNorm, layerNorm, linear, silu } from '../nn.js';
import { encodeModel } from '../onnx/serialize.js';
import * as op from '../ops/index.js';
import { appendAdamW } from '../optim.js';
import { SeededRandom } from '../random.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { GraphSession, type HostTensor } from '../runtime/session.js';
import { numel } from '../shape.js';

interface Case {
  name: string;
  describe: string;
  build: (g: Graph, param: (name: string, shape: number[], scale?: number) => Tensor) => Tensor;
  inputs: Record<string, number[]>;
}

const CASES: Case[] = [
  {
    name: 'conv64',
    describe: 'Conv 3×3, 64→64 channels, 64×64 input, batch 1, with bias',
    inputs: { x: [1, 64, 64, 64] },
    build: (g, p) => op.conv2d(g.inputs[0]!.tensor, p('weight', [64, 64, 3, 3], 0.05), p('bias', [64], 0)),
  },
  {
    name: 'resnet_xattn_320',
    describe: 'SD ResNet block + cross-attention transformer block, 320 channels, 64×64 latent, 77×768 context, batch 1',
    inputs: { sample: [1, 320, 64, 64], temb: [1, 1280], encoder_hidden_states: [1, 77, 768] },
    build: (g, p) => {
      const [sample, temb, context] = g.inputs.map((i) => i.tensor) as [Tensor, Tensor, Tensor];
      // 1. ResNet block
      const h1 = op.conv2d(
        silu(groupNorm(sample, 32, p('norm1.weight', [320], 1), p('norm1.bias', [320], 0))),
        p('conv1.weight', [320, 320, 3, 3], 0.02),
        p('conv1.bias', [320], 0),
        { padding: 1 },
      );
      const t = op.reshape(linear(silu(temb), p('time_emb_proj.weight', [320, 1280], 0.02), p('time_emb_proj.bias', [320], 0)), [1, 320, 1, 1]);
      const h2 = op.conv2d(
        silu(groupNorm(op.add(h1, t), 32, p('norm2.weight', [320], 1), p('norm2.bias', [320], 0))),
        p('conv2.weight', [320, 320, 3, 3], 0.02),
        p('conv2.bias', [320], 0),
        { padding: 1 },
      );
      const res = op.add(sample, h2);
      // 2. Transformer block: self-attention, cross-attention, GEGLU feed-forward
      const tokens = (x: Tensor) => op.transpose(op.reshape(x, [1, 320, 4096]), [0, 2, 1]);
      let x = linear(
        tokens(groupNorm(res, 32, p('attn_norm.weight', [320], 1), p('attn_norm.bias', [320], 0), 1e-6)),
        p('proj_in.weight', [320, 320], 0.05),
        p('proj_in.bias', [320], 0),
      );
      const heads = (y: Tensor, n: number) => op.transpose(op.reshape(y, [1, n, 8, 40]), [0, 2, 1, 3]);
      const merge = (y: Tensor) => op.reshape(op.transpose(y, [0, 2, 1, 3]), [1, 4096, 320]);
      const attn = (name: string, q: Tensor, kv: Tensor, kvDim: number) => {
        const n = kv.shape[1]!;
        const o = attention(
          heads(linear(q, p(`${name}.to_q.weight`, [320, 320], 0.05)), 4096),
          heads(linear(kv, p(`${name}.to_k.weight`, [320, kvDim], 0.05)), n),
          heads(linear(kv, p(`${name}.to_v.weight`, [320, kvDim], 0.05)), n),
        );
        return linear(merge(o), p(`${name}.to_out.weight`, [320, 320], 0.05), p(`${name}.to_out.bias`, [320], 0));
      };
      const ln = (name: string, y: Tensor) => layerNorm(y, p(`${name}.weight`, [320], 1), p(`${name}.bias`, [320], 0));
      const normed = ln('norm1', x);
      x = op.add(x, attn('attn1', normed, normed, 320));
      x = op.add(x, attn('attn2', ln('norm2', x), context, 768));
      const [a, gate] = op.split(linear(ln('norm3', x), p('ff.proj.weight', [2560, 320], 0.05), p('ff.proj.bias', [2560], 0)), 2, [1280, 1280]);
      x = op.add(x, linear(op.mul(a!, op.mul(gate!, op.sigmoid(op.mul(gate!, 1.702)))), p('ff.out.weight', [320, 1280], 0.03), p('ff.out.bias', [320], 0)));
      const out = op.reshape(op.transpose(linear(x, p('proj_out.weight', [320, 320], 0.05), p('proj_out.bias', [320], 0)), [0, 2, 1]), [1, 320, 64, 64]);
      return op.add(out, res);
    },
  },
];

function buildGraph(c: Case, training: boolean) {
  const rng = new SeededRandom(1);
  const g = new Graph(c.name);
  for (const [name, shape] of Object.entries(c.inputs)) g.input(name, 'float32', shape);
  const params: Tensor[] = [];
  const values: Record<string, Float32Array> = {};
  const seen = new Map<string, Tensor>();
  const param = (name: string, shape: number[], scale = 0.02) => {
    const existing = seen.get(name);
    if (existing) return existing;
    const data = scale === 1 ? new Float32Array(numel(shape)).fill(1) : Float32Array.from(rng.normalArray(numel(shape)), (x) => x * scale);
    const t = training ? g.param(name, shape) : g.weight(name, 'float32', shape, data);
    if (training) {
      params.push(t);
      values[name] = data;
    }
    seen.set(name, t);
    return t;
  };
  const out = c.build(g, param);
  if (!training) {
    g.output(out, 'out');
    return { g, values };
  }
  const loss = op.meanAll(op.mul(out, out));
  appendAdamW(g, params, grad(loss, params), { maxGradNorm: 1 });
  g.output(loss, 'loss');
  return { g, values };
}

async function timeCase(c: Case, mode: 'forward' | 'step', provider: ExecutionProvider, runs: number) {
  const { g, values } = buildGraph(c, mode === 'step');
  const rng = new SeededRandom(2);
  const feeds: Record<string, HostTensor> = {};
  for (const input of g.inputs) {
    const n = numel(input.tensor.shape);
    const data = input.role === 'data' ? rng.normalArray(n) : input.role === 'param' ? values[input.tensor.name]! : new Float32Array(n);
    feeds[input.tensor.name] = { dtype: 'float32', shape: input.tensor.shape, data };
  }
  if (mode === 'step') {
    feeds['optim.lr'] = { dtype: 'float32', shape: [], data: Float32Array.of(1e-4) };
    feeds['optim.step'] = { dtype: 'float32', shape: [], data: Float32Array.of(1) };
  }
  const t0 = performance.now();
  const session = await GraphSession.load(encodeModel(g), { provider });
  const loadMs = performance.now() - t0;
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return {
    case: c.name,
    mode,
    provider: session.provider,
    fallback: session.fallback,
    nodes: g.nodes.length,
    sessionLoadMs: round(loadMs),
    medianMs: round(times[Math.floor(times.length / 2)]!),
    minMs: round(times[0]!),
    runs,
    peakRssMB: round(process.resourceUsage().maxRSS / 1024),
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

const [, , caseName, mode, provider = 'cpu', runs = '3'] = process.argv;
if (caseName) {
  const c = CASES.find((x) => x.name === caseName)!;
  process.stdout.write(JSON.stringify(await timeCase(c, mode as 'forward' | 'step', provider as ExecutionProvider, Number(runs))));
} else {
  const wanted = (process.env.BENCH_PROVIDER ?? 'cpu') as ExecutionProvider;
  const self = fileURLToPath(import.meta.url);
  const results = [];
  for (const c of CASES) {
    for (const m of ['forward', 'step']) {
      const out = execFileSync(process.execPath, [self, c.name, m, wanted, process.env.BENCH_RUNS ?? '3'], { encoding: 'utf8', maxBuffer: 1 << 24 });
      results.push({ ...JSON.parse(out), describe: c.describe });
    }
  }
  console.log(
    JSON.stringify(
      { bench: 'graph', date: new Date().toISOString(), node: process.versions.node, cpus: (await import('node:os')).cpus().length, results },
      null,
      2,
    ),
  );
}
