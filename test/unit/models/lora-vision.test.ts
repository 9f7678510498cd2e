import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { sessionForGraph } from '../../../src-main/graph/runtime/session.js';
import type { Shape } from '../../../src-main/graph/shape.js';
import { clipTextEncoder } from '../../../src-main/models/clip-text.js';
import { linearLayer } from '../../../src-main/models/layers.js';
import { frozenLora, type LoraAdapter, loraKeys, TrainableLora } from '../../../src-main/models/lora.js';
import { weightsFrom, type WeightSource } from '../../../src-main/models/params.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../../src-main/models/tiny-configs.js';
import { unet } from '../../../src-main/models/unet.js';
import { imageEncoder, type VisionConfig } from '../../../src-main/models/vision.js';
import { readSafetensorsHeader, writeSafetensors } from '../../../src-main/weights/safetensors.js';
import { RandomSource, SafetensorsSource } from '../../../src-main/weights/sources.js';
import { gradCheck } from '../graph/gradcheck.js';
import { tmpDir } from '../../helpers/tmp.js';

const TINY_VISION: VisionConfig = {
  imageSize: 32,
  patchSize: 8,
  hiddenSize: 48,
  intermediateSize: 96,
  layers: 2,
  heads: 12,
  eps: 1e-5,
  tokenDim: TINY_CLIP_TEXT.hiddenSize,
};

/** Records every weight name a model asks for. */
function namesOf(build: (g: Graph, source: WeightSource) => void): string[] {
  const names: string[] = [];
  const random = new RandomSource(0);
  const recorder: WeightSource = { label: 'names', shapeOf: (_n, s) => s, load: (n, d, s) => (names.push(n), random.load(n, d, s)) };
  build(new Graph(), recorder);
  return names;
}

const run = async (g: Graph, feeds: Record<string, Float32Array>, shapes: Record<string, Shape>) =>
  (await sessionForGraph(g, { cacheDir: tmpDir() })).run(
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { dtype: 'float32' as const, shape: shapes[k]!, data: v }])),
  );

describe('LoRA adapters', () => {
  const W = new SeededRandom(1).normalArray(6 * 5);
  const A = new SeededRandom(2).normalArray(2 * 5);
  const B = new SeededRandom(3).normalArray(6 * 2);
  const x = new SeededRandom(4).normalArray(3 * 5);

  function layerWith(adapters: readonly LoraAdapter[] | undefined) {
    const g = new Graph();
    const base: WeightSource = { label: 'base', shapeOf: (_n, s) => s, load: (n) => (n.endsWith('weight') ? W : new Float32Array(6)) };
    const p = weightsFrom(g, base, { adapters });
    g.output(
      g.scope('blk.attn1', () => linearLayer(p, 'to_q', g.input('x', 'float32', [3, 5]), 5, 6)),
      'y',
    );
    return g;
  }

  it('adds scale·B·A·x, and several adapters add up', async () => {
    const dir = tmpDir();
    const file = join(dir, 'concept.safetensors');
    writeSafetensors(file, {
      [loraKeys('blk.attn1.to_q').down]: { dtype: 'F32', shape: [2, 5], data: A },
      [loraKeys('blk.attn1.to_q').up]: { dtype: 'F32', shape: [6, 2], data: B },
    });
    const source = new SafetensorsSource('concept', [readSafetensorsHeader(file)]);
    const base = (await run(layerWith(undefined), { x }, { x: [3, 5] })).y!.data as Float32Array;
    const one = (await run(layerWith([frozenLora('c1', source, 0.5)]), { x }, { x: [3, 5] })).y!.data as Float32Array;
    const two = (await run(layerWith([frozenLora('c1', source, 0.5), frozenLora('c2', source, 0.25)]), { x }, { x: [3, 5] })).y!.data as Float32Array;
    // reference: BAx by hand
    const delta = new Float32Array(18);
    for (let r = 0; r < 3; r++)
      for (let o = 0; o < 6; o++) {
        let s = 0;
        for (let k = 0; k < 2; k++) {
          let ax = 0;
          for (let i = 0; i < 5; i++) ax += A[k * 5 + i]! * x[r * 5 + i]!;
          s += B[o * 2 + k]! * ax;
        }
        delta[r * 6 + o] = s;
      }
    one.forEach((v, i) => expect(v).toBeCloseTo(base[i]! + 0.5 * delta[i]!, 4));
    two.forEach((v, i) => expect(v).toBeCloseTo(base[i]! + 0.75 * delta[i]!, 4));
  });

  it('a new trainable adapter starts as the frozen model, and its gradients reach A and B only', async () => {
    const lora = new TrainableLora(4);
    const g = new Graph();
    const src = new RandomSource(5);
    const text = clipTextEncoder(weightsFrom(g, src, { adapters: [lora] }), TINY_CLIP_TEXT, { inputIds: g.input('ids', 'int64', [1, 77]) });
    const eps = unet(weightsFrom(g, src, { prefix: 'unet.', adapters: [lora] }), TINY_UNET, {
      sample: g.input('sample', 'float32', [1, 4, 8, 8]),
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: text,
    });
    // every attention projection of both models got an adapter: 4 per text layer, 8 per UNet transformer
    const adapted = lora.params.filter((p) => p.name.endsWith('lora_A.weight')).map((p) => p.name);
    expect(adapted.filter((n) => n.startsWith('text_model')).length).toBe(4 * TINY_CLIP_TEXT.layers);
    // tiny UNet: one transformer down, one in the middle, two up
    expect(adapted.filter((n) => n.startsWith('unet')).length).toBe(8 * 4);
    expect(adapted).toContain('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight');
    // frozen: the step's only trainable inputs are the adapters' A and B; every base weight is a constant
    // initializer, which no optimizer output can write
    const trainable = g.inputs.filter((i) => i.role === 'param').map((i) => i.tensor.name);
    expect(trainable.sort()).toEqual(lora.params.map((p) => p.name).sort());
    expect(trainable.every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    const initializers = new Set(g.initializers.map((i) => i.tensor.name));
    for (const frozen of [
      'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight',
      'text_model.encoder.layers.0.self_attn.q_proj.weight',
      'unet.conv_in.weight',
    ]) {
      expect(initializers).toContain(frozen);
    }
    const grads = grad(op.meanAll(op.mul(eps, eps)), lora.params);
    g.output(eps, 'eps');
    grads.slice(0, 2).forEach((t, i) => g.output(t, `g${i}`));
    const session = await sessionForGraph(g);
    const r = new SeededRandom(6);
    const feeds = {
      ids: { dtype: 'int64' as const, shape: [1, 77], data: new BigInt64Array(77).fill(49407n) },
      sample: { dtype: 'float32' as const, shape: [1, 4, 8, 8], data: r.normalArray(256) },
      t: { dtype: 'float32' as const, shape: [1], data: Float32Array.of(300) },
      ...Object.fromEntries(lora.params.map((p) => [p.name, { dtype: 'float32' as const, shape: p.shape, data: lora.initialValues[p.name]! }])),
    };
    const out = await session.run(feeds);
    // B = 0: the gradient of A is zero, of B is not
    expect(Math.max(...Array.from(out.g0!.data as Float32Array, Math.abs))).toBe(0);
    expect(Math.max(...Array.from(out.g1!.data as Float32Array, Math.abs))).toBeGreaterThan(0);
    // and the output equals the frozen model's
    const plain = new Graph();
    plain.output(
      unet(weightsFrom(plain, src, { prefix: 'unet.' }), TINY_UNET, {
        sample: plain.input('sample', 'float32', [1, 4, 8, 8]),
        timestep: plain.input('t', 'float32', [1]),
        encoderHiddenStates: clipTextEncoder(weightsFrom(plain, src), TINY_CLIP_TEXT, { inputIds: plain.input('ids', 'int64', [1, 77]) }),
      }),
      'eps',
    );
    const base = await (await sessionForGraph(plain)).run({ ids: feeds.ids, sample: feeds.sample, t: feeds.t });
    expect(Array.from(out.eps!.data as Float32Array)).toEqual(Array.from(base.eps!.data as Float32Array));
  });
});

describe('image encoder (CLIP ViT + projection)', () => {
  it('uses the CLIP vision checkpoint names and gives one token per image', async () => {
    const names = namesOf((g, s) => imageEncoder(weightsFrom(g, s), weightsFrom(g, s), TINY_VISION, g.input('pixels', 'float32', [2, 3, 32, 32])));
    expect(names).toEqual(
      expect.arrayContaining([
        'vision_model.embeddings.patch_embedding.weight',
        'vision_model.embeddings.class_embedding',
        'vision_model.embeddings.position_embedding.weight',
        'vision_model.pre_layrnorm.weight',
        'vision_model.encoder.layers.1.self_attn.out_proj.bias',
        'vision_model.encoder.layers.1.mlp.fc2.weight',
        'vision_model.post_layernorm.bias',
        'mapper.proj.weight',
      ]),
    );
    const g = new Graph();
    g.output(
      imageEncoder(weightsFrom(g, new RandomSource(1)), weightsFrom(g, new RandomSource(2)), TINY_VISION, g.input('pixels', 'float32', [2, 3, 32, 32])),
      'token',
    );
    const out = await run(g, { pixels: new SeededRandom(1).normalArray(2 * 3 * 32 * 32) }, { pixels: [2, 3, 32, 32] });
    expect(out.token!.shape).toEqual([2, 1, 48]);
  });

  it('Stage I’s path: the loss gradient flows from the text encoder back into the concept embedding', () =>
    gradCheck({
      inputs: { embeds: [1, 1, 48] },
      fixed: {
        ids: { dtype: 'int64', shape: [1, 77], data: BigInt64Array.from([49406n, 49407n, 1710n, ...new Array(74).fill(49407n)]) },
        mask: { dtype: 'float64', shape: [1, 77, 1], data: Float64Array.from({ length: 77 }, (_, i) => (i === 1 ? 1 : 0)) },
      },
      build: ({ embeds, ids, mask }, g) => {
        const src: WeightSource = {
          label: 'r',
          shapeOf: (_n, s) => s,
          load: (n, _d, s) => Float64Array.from(new RandomSource(3).load(n, 'float32', s) as Float32Array),
        };
        return clipTextEncoder(
          weightsFrom(g, src, { dtype: 'float64' }),
          { ...TINY_CLIP_TEXT, layers: 1 },
          { inputIds: ids!, placeholders: { embeds: embeds!, mask: mask! } },
        );
      },
    }));
});
