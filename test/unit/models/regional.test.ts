// Regional composition in the model: a concept's tokens get no attention outside its region, and with
// every region the whole canvas the UNet is exactly plain composition (all LoRAs everywhere).
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import { type HostTensor, sessionForGraph } from '../../../src-main/graph/runtime/session.js';
import { ATTENTION_PROJECTION, frozenLora, isLoraWeight } from '../../../src-main/models/lora.js';
import { weightsFrom, type WeightSource } from '../../../src-main/models/params.js';
import { REGION_TOKENS_INPUT, regionalAttention, regionMaskInput, Regions } from '../../../src-main/models/regional.js';
import { TINY_UNET } from '../../../src-main/models/tiny-configs.js';
import { unet } from '../../../src-main/models/unet.js';
import { RandomSource } from '../../../src-main/weights/sources.js';

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

/** A concept's LoRA on the UNet layers `layers` names (every attention projection by default): random A and B (so it changes the output). */
function randomLora(seed: number, layers: RegExp = ATTENTION_PROJECTION): WeightSource {
  const values = new RandomSource(seed);
  return {
    label: `lora ${seed}`,
    shapeOf: (name) => (isLoraWeight(name) && layers.test(name.replace(/\.lora_[AB]\.weight$/, '')) ? [4] : undefined),
    load: (name, dtype, shape) => values.load(name, dtype, shape),
  };
}

describe('regional composition', () => {
  it("gives a concept's tokens zero attention weight outside its region, and leaves pixels inside free to attend them", async () => {
    const [n, t, d, heads] = [16, 5, 8, 2];
    const g = new Graph();
    const regions = new Regions(g, ['c'], 1, t);
    const q = g.input('q', 'float32', [1, heads, n, d]);
    const k = g.input('k', 'float32', [1, heads, t, d]);
    const v = g.input('v', 'float32', [1, heads, t, d]);
    const dk = g.input('dk', 'float32', [1, heads, t, d]);
    const { probs } = regionalAttention(q, k, v, [{ gate: regions.column('c', n), dk, dv: dk }], regions.bias(n));
    g.output(probs, 'probs');
    const r = new SeededRandom(3);
    const inside = Array.from({ length: n }, (_, i) => i % 4 < 2); // the left half of a 4×4 grid
    const owned = 2; // token 2 is the concept's
    const out = await (
      await sessionForGraph(g)
    ).run({
      q: f32([1, heads, n, d], r.normalArray(heads * n * d)),
      k: f32([1, heads, t, d], r.normalArray(heads * t * d)),
      v: f32([1, heads, t, d], r.normalArray(heads * t * d)),
      dk: f32([1, heads, t, d], r.normalArray(heads * t * d)),
      [regionMaskInput(n)]: f32(
        [1, n, 1],
        Float32Array.from(inside, (x) => (x ? 1 : 0)),
      ),
      [REGION_TOKENS_INPUT]: f32(
        [1, 1, t],
        Float32Array.from({ length: t }, (_, j) => (j === owned ? 1 : 0)),
      ),
    });
    const p = out.probs!.data as Float32Array;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        const row = p.subarray((h * n + i) * t, (h * n + i + 1) * t);
        if (inside[i]) expect(row[owned]).toBeGreaterThan(1e-6);
        else expect(row[owned]).toBe(0);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    }
  });

  /** The tiny UNet's ε for one latent, two concepts (their LoRAs), optionally confined to regions. */
  async function tinyEps(
    regionsOf: ((n: number) => Float32Array) | null,
    concepts: number,
    ownTokens = true,
    layers: RegExp = ATTENTION_PROJECTION,
  ): Promise<Float32Array> {
    const g = new Graph();
    const [h, w, b] = [8, 8, 2];
    const adapters = [frozenLora('c1', randomLora(11, layers), 0.7), frozenLora('c2', randomLora(12, layers), 0.7)].slice(0, concepts);
    const regions = regionsOf ? new Regions(g, ['c1', 'c2'], b) : undefined;
    const eps = unet(weightsFrom(g, new RandomSource(1), { prefix: 'unet.', adapters }), TINY_UNET, {
      sample: g.input('sample', 'float32', [b, 4, h, w]),
      timestep: g.input('timestep', 'float32', [b]),
      encoderHiddenStates: g.input('ehs', 'float32', [b, 77, TINY_UNET.crossAttentionDim]),
      ...(regions ? { regions } : {}),
    });
    g.output(eps, 'eps');
    const r = new SeededRandom(9);
    const feeds: Record<string, HostTensor> = {
      sample: f32([b, 4, h, w], r.normalArray(b * 4 * h * w)),
      timestep: f32([b], Float32Array.of(500, 500)),
      ehs: f32([b, 77, TINY_UNET.crossAttentionDim], r.normalArray(b * 77 * TINY_UNET.crossAttentionDim)),
    };
    if (regionsOf) {
      for (const input of g.inputs.map((i) => i.tensor.name).filter((name) => name.startsWith('region_mask_'))) {
        const nn = Number(input.slice('region_mask_'.length));
        feeds[input] = f32([1, nn, 2], regionsOf(nn));
      }
      const tokens = new Float32Array(b * 2 * 77);
      if (ownTokens) {
        tokens[1 * 2 * 77 + 0 * 77 + 5] = 1; // the prompt row: token 5 is c1's, token 9 c2's
        tokens[1 * 2 * 77 + 1 * 77 + 9] = 1;
      }
      feeds[REGION_TOKENS_INPUT] = f32([b, 2, 77], tokens);
    }
    return (await (await sessionForGraph(g)).run(feeds)).eps!.data as Float32Array;
  }

  it('with every region the whole canvas equals plain composition; with two halves it differs from it and from no concepts', async () => {
    const plain = await tinyEps(null, 2);
    const full = await tinyEps((n) => new Float32Array(n * 2).fill(1), 2);
    let maxDiff = 0;
    for (let i = 0; i < plain.length; i++) maxDiff = Math.max(maxDiff, Math.abs(plain[i]! - full[i]!));
    expect(maxDiff).toBeLessThan(1e-5);

    // c1 on the left half, c2 on the right (at every level's grid)
    const halves = (n: number) => {
      const side = Math.sqrt(n);
      const m = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) m[i * 2 + (i % side < side / 2 ? 0 : 1)] = 1;
      return m;
    };
    const regional = await tinyEps(halves, 2);
    const none = await tinyEps(null, 0);
    const differ = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0) / a.length;
    expect(differ(regional, plain)).toBeGreaterThan(1e-4);
    expect(differ(regional, none)).toBeGreaterThan(1e-4);

    // regions that cover nothing: neither LoRA acts anywhere (spatial projections and cross-attention alike)
    const nowhere = await tinyEps((n) => new Float32Array(n * 2), 2, false);
    expect(Math.max(...nowhere.map((x, i) => Math.abs(x - none[i]!)))).toBeLessThan(1e-6);
  });

  it('a LoRA on every layer kind (convolutions, feed-forward, time_emb_proj, samplers, conv_in/out) is gated the same way', async () => {
    // every UNet layer but the time embedding, which is one vector for the whole image (it acts everywhere)
    const spatial = /^unet\.(?!time_embedding\.)/;
    const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    const plain = await tinyEps(null, 2, true, spatial);
    const full = await tinyEps((n) => new Float32Array(n * 2).fill(1), 2, true, spatial);
    expect(maxDiff(plain, full)).toBeLessThan(1e-5 * Math.max(...plain.map(Math.abs)));
    const none = await tinyEps(null, 0);
    expect(maxDiff(plain, none)).toBeGreaterThan(1e-3);
    const nowhere = await tinyEps((n) => new Float32Array(n * 2), 2, false, spatial);
    expect(maxDiff(nowhere, none)).toBeLessThan(1e-5 * Math.max(...none.map(Math.abs))); // a delta × 0 added: the kernels' rounding only
    // the time embedding's delta is not confined: regions that cover nothing still see it
    const timeOnly = await tinyEps((n) => new Float32Array(n * 2), 2, false, /^unet\.time_embedding\./);
    expect(maxDiff(timeOnly, none)).toBeGreaterThan(1e-4);
  });
});
