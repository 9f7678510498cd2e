import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { linear } from '../../../src-main/graph/nn.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../../src-main/graph/random.js';
import type { HostTensor } from '../../../src-main/graph/runtime/session.js';
import { Trainer } from '../../../src-main/graph/runtime/trainer.js';

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

/** AdamW as PyTorch defines it, with global-norm clipping, on plain arrays. */
function referenceAdamW(p: number[], g: number[], m: number[], v: number[], t: number, lr: number, wd: number, clip: number) {
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const scale = Math.min(1, clip / (norm + 1e-6));
  return p.map((pi, i) => {
    const gi = g[i]! * scale;
    m[i] = 0.9 * m[i]! + 0.1 * gi;
    v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
    const update = m[i]! / (1 - 0.9 ** t) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
    return pi - lr * (update + wd * pi);
  });
}

describe('AdamW inside the graph', () => {
  it('matches a reference AdamW with clipping and weight decay over several steps', async () => {
    // loss = Σ c ⊙ w²/2 → gradient c ⊙ w, known in closed form
    const c = [3, -1, 0.5, 2];
    const trainer = await Trainer.create({
      build: (g) => {
        const w = g.param('w', [4]);
        const loss = op.sumAll(op.mul(op.mul(op.mul(w, w), 0.5), g.constant('float32', [4], c)));
        return { loss, params: [w] };
      },
      initialParams: { w: Float32Array.from([1, 2, -1, 0.5]) },
      optimizer: { weightDecay: 0.01, maxGradNorm: 1 },
    });
    let p = [1, 2, -1, 0.5];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    for (let t = 1; t <= 5; t++) {
      const grads = p.map((pi, i) => c[i]! * pi);
      const result = await trainer.step([{}], 0.1);
      expect(result.gradNorm).toBeCloseTo(Math.sqrt(grads.reduce((s, x) => s + x * x, 0)), 4);
      p = referenceAdamW(p, grads, m, v, t, 0.1, 0.01, 1);
      Array.from((await trainer.parameters()).w!).forEach((x, i) => expect(x).toBeCloseTo(p[i]!, 5));
    }
    await trainer.release();
  });

  it('trains a tiny MLP to a target loss', async () => {
    const rng = new SeededRandom(7);
    const xs = rng.normalArray(64 * 2);
    const ys = new Float32Array(64);
    for (let i = 0; i < 64; i++) ys[i] = Math.sin(xs[2 * i]!) + 0.5 * xs[2 * i + 1]! ** 2;
    const init = (n: number, scale: number) => Float32Array.from(rng.normalArray(n), (x) => x * scale);
    const trainer = await Trainer.create({
      build: (g) => {
        const x = g.input('x', 'float32', [64, 2]);
        const y = g.input('y', 'float32', [64, 1]);
        const [w1, b1, w2, b2] = [g.param('w1', [16, 2]), g.param('b1', [16]), g.param('w2', [1, 16]), g.param('b2', [1])];
        const pred = linear(op.tanh(linear(x, w1!, b1!)), w2!, b2!);
        const err = op.sub(pred, y);
        return { loss: op.meanAll(op.mul(err, err)), params: [w1!, b1!, w2!, b2!], outputs: { pred } };
      },
      initialParams: { w1: init(32, 0.7), b1: new Float32Array(16), w2: init(16, 0.3), b2: new Float32Array(1) },
      optimizer: { weightDecay: 0 },
    });
    const batch = { x: f32([64, 2], xs), y: f32([64, 1], ys) };
    const first = (await trainer.step([batch], 0.03)).loss;
    let last = first;
    for (let i = 0; i < 300; i++) last = (await trainer.step([batch], 0.03)).loss;
    expect(first).toBeGreaterThan(0.3);
    expect(last).toBeLessThan(0.05);
    await trainer.release();
  });

  it('accumulating two micro-batches gives the step of their concatenation', async () => {
    const rng = new SeededRandom(3);
    const xs = rng.normalArray(8 * 3);
    const ys = rng.normalArray(8);
    const build = (n: number) => (g: Graph) => {
      const x = g.input('x', 'float32', [n, 3]);
      const y = g.input('y', 'float32', [n, 1]);
      const w = g.param('w', [1, 3]);
      const err = op.sub(linear(x, w), y);
      return { loss: op.meanAll(op.mul(err, err)), params: [w] };
    };
    const initialParams = { w: Float32Array.from([0.1, -0.2, 0.3]) };
    const whole = await Trainer.create({ build: build(8), initialParams, optimizer: { maxGradNorm: 0.5 } });
    const split = await Trainer.create({ build: build(4), initialParams, microBatches: 2, optimizer: { maxGradNorm: 0.5 } });
    for (let step = 0; step < 3; step++) {
      const a = await whole.step([{ x: f32([8, 3], xs), y: f32([8, 1], ys) }], 0.05);
      const b = await split.step(
        [
          { x: f32([4, 3], xs.slice(0, 12)), y: f32([4, 1], ys.slice(0, 4)) },
          { x: f32([4, 3], xs.slice(12)), y: f32([4, 1], ys.slice(4)) },
        ],
        0.05,
      );
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expect(b.gradNorm).toBeCloseTo(a.gradNorm, 5);
    }
    const wholeW = (await whole.parameters()).w!;
    Array.from((await split.parameters()).w!).forEach((x, i) => expect(x).toBeCloseTo(wholeW[i]!, 5));
  });
});
