import { describe, expect, it } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';

describe('autodiff', () => {
  it('does no gradient work for a frozen branch that leads to no trainable tensor', () => {
    const backwardNodes = (withFrozenBranch: boolean) => {
      const g = new Graph();
      const x = g.input('x', 'float32', [4, 4]);
      const w = g.param('w', [4, 4]);
      let loss = op.sumAll(op.matmul(x, w));
      if (withFrozenBranch) {
        const frozen = g.weight('frozen', 'float32', [4, 4], new Float32Array(16).fill(0.1));
        loss = op.add(loss, op.sumAll(op.exp(op.matmul(frozen, op.tanh(frozen)))));
      }
      const before = g.nodes.length;
      grad(loss, [w]);
      return g.nodes.slice(before).map((n) => n.type);
    };
    const plain = backwardNodes(false);
    const withBranch = backwardNodes(true);
    expect(withBranch).toEqual(plain);
    expect(withBranch).not.toContain('Exp');
  });

  it('accumulates gradients of a tensor used twice', () => {
    const g = new Graph();
    const w = g.param('w', [3]);
    const [gw] = grad(op.sumAll(op.add(op.mul(w, w), w)), [w]);
    expect(gw!.shape).toEqual([3]);
    expect(g.nodes.filter((n) => n.type === 'Add').length).toBeGreaterThanOrEqual(2);
  });

  it('gives zeros for a parameter the loss does not use, and refuses a loss that uses none', () => {
    const g = new Graph();
    const used = g.param('used', [2]);
    const unused = g.param('unused', [2, 2]);
    const [, gz] = grad(op.sumAll(used), [used, unused]);
    expect(gz!.shape).toEqual([2, 2]);
    expect(gz!.producer!.type).toBe('Expand');
    expect(() => grad(op.sumAll(g.input('x', 'float32', [2])), [used])).toThrow(/does not depend/);
  });

  it('refuses a non-scalar loss without a seed', () => {
    const g = new Graph();
    const w = g.param('w', [2]);
    expect(() => grad(op.mul(w, w), [w])).toThrow(/must be a scalar/);
  });
});

describe('graph building errors name the op and the shapes', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  it.each([
    ['broadcast', () => op.add(a, g.input('b', 'float32', [4]))],
    ['matmul', () => op.matmul(a, g.input('c', 'float32', [2, 3]))],
    ['dtype', () => op.mul(a, g.input('d', 'float64', [2, 3]))],
    ['conv', () => op.conv2d(g.input('e', 'float32', [1, 3, 8, 8]), g.param('k', [4, 2, 3, 3]))],
    ['reshape', () => op.reshape(a, [4, 2])],
    ['slice', () => op.slice(a, 1, 2, 5)],
  ])('%s', (_label, build) => {
    expect(build).toThrow(/^(Add|MatMul|Mul|Conv|Reshape|Slice): /);
  });
  it('names used twice', () => {
    expect(() => g.param('k', [1])).toThrow(/used twice/);
  });
  it('scopes name parameters like checkpoint keys', () => {
    const p = g.scope('unet', () => g.scope('down_blocks.0', () => g.param('conv.weight', [1])));
    expect(p.name).toBe('unet.down_blocks.0.conv.weight');
  });
});
