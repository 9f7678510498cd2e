// `npm run -s compare:gpu [-- --model <diffusers folder>] [--dtype float16|float32]`: the text encoder, UNet
// and VAE decoder of a model run on two providers (BENCH_PROVIDER, default webgpu, against SINGLEINSERT_COMPARE,
// default cpu) with every intermediate compared; prints JSON with each part's first layer whose error jumps,
// the worst error by op type, and the output's error. Finds where a GPU provider loses precision.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { PROJECT_ROOT } from '../../common/project-root.js';
import { clipTextEncoder } from '../../models/clip-text.js';
import { weightsFrom } from '../../models/params.js';
import { unet } from '../../models/unet.js';
import { vaeDecode } from '../../models/vae.js';
import { openStableDiffusion } from '../../weights/sd-loader.js';
import type { FloatDType } from '../dtype.js';
import { Graph } from '../graph.js';
import * as op from '../ops/index.js';
import { SeededRandom } from '../random.js';
import { compareProviders, firstJump, type LayerError } from '../runtime/compare-providers.js';
import type { HostTensor } from '../runtime/session.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, dtype: { type: 'string', default: 'float16' } } });
const model = openStableDiffusion(values.model ?? join(PROJECT_ROOT, 'test', 'fixtures', 'reference', 'tiny-sd'));
const dtype = values.dtype as FloatDType;
const provider = (process.env.BENCH_PROVIDER ?? 'webgpu') as ExecutionProvider;
const reference = (process.env.SINGLEINSERT_COMPARE ?? 'cpu') as ExecutionProvider;
const cacheDir = mkdtempSync(join(tmpdir(), 'si-compare-'));
const r = new SeededRandom(1);
const f32 = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: r.normalArray(shape.reduce((a, b) => a * b, 1)) });
const u = model.unet.config;
const t = model.textEncoder.config;
const side = u.sampleSize;
const input = (g: Graph, name: string, shape: number[]) => op.cast(g.input(name, 'float32', shape), dtype);

const parts: Record<string, { build: (g: Graph) => void; feeds: Record<string, HostTensor> }> = {
  text: {
    build: (g) =>
      g.output(
        op.cast(clipTextEncoder(weightsFrom(g, model.textEncoder.source, { dtype }), t, { inputIds: g.input('ids', 'int64', [1, 77]) }), 'float32'),
        'out',
      ),
    feeds: { ids: { dtype: 'int64', shape: [1, 77], data: BigInt64Array.from({ length: 77 }, (_, i) => BigInt(i === 0 ? 0 : (i * 37) % t.vocabSize)) } },
  },
  unet: {
    build: (g) =>
      g.output(
        op.cast(
          unet(weightsFrom(g, model.unet.source, { prefix: 'unet.', dtype }), u, {
            sample: input(g, 'sample', [1, u.inChannels, side, side]),
            timestep: g.input('t', 'float32', [1]),
            encoderHiddenStates: input(g, 'context', [1, 77, t.hiddenSize]),
          }),
          'float32',
        ),
        'out',
      ),
    feeds: { sample: f32([1, u.inChannels, side, side]), t: { dtype: 'float32', shape: [1], data: Float32Array.of(500) }, context: f32([1, 77, t.hiddenSize]) },
  },
  vae: {
    build: (g) =>
      g.output(
        op.cast(vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.', dtype }), model.vae.config, input(g, 'latents', [1, 4, side, side])), 'float32'),
        'out',
      ),
    feeds: { latents: f32([1, 4, side, side]) },
  },
};

const report: Record<string, unknown> = { provider, reference, dtype, model: model.label };
try {
  for (const [name, part] of Object.entries(parts)) {
    const g = new Graph(name);
    part.build(g);
    const errors: LayerError[] = await compareProviders(g, part.feeds, provider, reference, { cacheDir });
    const byOp: Record<string, number> = {};
    for (const e of errors) byOp[e.op] = Math.max(byOp[e.op] ?? 0, e.relative);
    report[name] = { firstJump: firstJump(errors), worstByOp: byOp, output: errors.at(-1)?.relative ?? null, layers: errors.length };
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
console.log(JSON.stringify(report, null, 2));
