import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { intermediatePeak, stepActivationPeak } from '../../../src-main/graph/runtime/memory-timeline.js';

describe('memory timeline', () => {
  it("a graph's intermediates at most: each made by its node, freed after its last reader; inputs and outputs not counted", () => {
    const g = new Graph('chain');
    const x = g.input('x', 'float32', [1000]); // 4 kB
    const a = op.relu(x); // 4 kB
    const b = op.tanh(a); // 4 kB, a freed after
    const wide = op.concat([b, b], 0); // 8 kB, b freed after
    const y = op.sigmoid(wide); // output
    g.output(y, 'y');
    // at concat: b (4 kB) + wide (8 kB) live; at sigmoid: wide (8 kB) + y (8 kB) live, y not counted
    expect(intermediatePeak(g)).toBe(12_000);
  });

  it("a step's worst moment: the pool reuses equal sizes, keeps what it allocated, and adds the running session's share", () => {
    const f32 = (name: string, n: number) => ({ name, dtype: 'float32' as const, shape: [n] });
    const value = (name: string) => ({ name, from: 'value' });
    const runs = [
      { inputs: [], outputs: [f32('c1', 100)], internal: 50 }, // pool 400
      { inputs: [value('c1')], outputs: [f32('c2', 100)], internal: 10 }, // pool 800
      { inputs: [value('c2')], outputs: [f32('g2', 100)], internal: 300 }, // pool 1200 (c2 freed after), + 300
      { inputs: [value('g2'), value('c1')], outputs: [f32('g1', 100)], internal: 0 }, // reuses c2's buffer: 1200
      { inputs: [value('g1')], outputs: [f32('grad:w', 1000)], internal: 0 }, // a parameter gradient: not counted
    ];
    const lastUse = new Map([
      ['c1', 3],
      ['c2', 2],
      ['g2', 3],
      ['g1', 4],
    ]);
    expect(stepActivationPeak(runs, lastUse, (n) => n.startsWith('grad:'))).toBe(1500);
    // the same schedule without reuse would hold 1600 at the fourth run: break the size match to see it
    const unequal = runs.map((r, i) => (i === 3 ? { ...r, outputs: [f32('g1', 101)] } : r));
    expect(stepActivationPeak(unequal, lastUse, (n) => n.startsWith('grad:'))).toBe(1604);
  });
});
