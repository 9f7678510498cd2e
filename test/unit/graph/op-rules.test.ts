// The gradient rule table: every op the models build has a record (a rule, or "carries no gradient"),
// and no op is written twice.
import { describe, expect, it } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { ruledOpTypes, ruleOf } from '../../../src-main/graph/ops/gradients.js';
import { defineOp, ruleTable } from '../../../src-main/graph/ops/registry.js';
import { clipTextEncoder } from '../../../src-main/models/clip-text.js';
import { weightsFrom } from '../../../src-main/models/params.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../../src-main/models/tiny-configs.js';
import { unet } from '../../../src-main/models/unet.js';
import { vaeDecode, vaeLatentDistribution } from '../../../src-main/models/vae.js';
import { imageEncoder } from '../../../src-main/models/vision.js';
import { RandomSource } from '../../../src-main/weights/sources.js';
import { TINY_VISION } from '../../helpers/tiny-singleinsert.js';

/** Ops that appear only inside gradients (no second derivatives are taken). */
const BACKWARD_ONLY = ['ConvTranspose'];

describe('gradient rule table', () => {
  it('has a record for every op the models build, forward and backward', () => {
    const g = new Graph('all models');
    const src = new RandomSource(1);
    const pixels = g.input('pixels', 'float32', [1, 3, 32, 32], 'param');
    const token = imageEncoder(weightsFrom(g, src), weightsFrom(g, src), TINY_VISION, pixels);
    const ids = g.input('ids', 'int64', [1, 77]);
    const mask = g.input('mask', 'float32', [1, 77, 1]);
    const text = clipTextEncoder(weightsFrom(g, src), TINY_CLIP_TEXT, {
      inputIds: ids,
      placeholders: { embeds: op.reshape(token, [1, 1, TINY_CLIP_TEXT.hiddenSize]), mask },
    });
    const eps = unet(weightsFrom(g, src, { prefix: 'unet.' }), TINY_UNET, {
      sample: g.input('x', 'float32', [1, 4, 8, 8]),
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: text,
    });
    const image = vaeDecode(weightsFrom(g, src, { prefix: 'vae.' }), TINY_VAE, eps);
    const latents = vaeLatentDistribution(weightsFrom(g, src, { prefix: 'vae.' }), TINY_VAE, image).mean;
    const forward = new Set(g.nodes.map((n) => n.type));
    grad(op.meanAll(op.mul(latents, latents)), [pixels]);
    const all = new Set(g.nodes.map((n) => n.type));
    const missing = [...all].filter((t) => !ruleOf(t) && !BACKWARD_ONLY.includes(t));
    expect(missing).toEqual([]);
    expect([...forward].filter((t) => BACKWARD_ONLY.includes(t))).toEqual([]);
    // the walk reached every kind of layer: convolutions, attention, norms, embeddings, upsampling
    for (const t of ['Conv', 'MatMul', 'Softmax', 'Gather', 'Resize', 'ReduceMean']) expect(forward).toContain(t);
  });

  it('refuses an op written twice', () => {
    expect(() => ruleTable([defineOp({ type: 'Add', nondifferentiable: true }), defineOp({ type: 'Add', nondifferentiable: true })])).toThrow(
      /Add has two gradient records/,
    );
    expect(new Set(ruledOpTypes()).size).toBe(ruledOpTypes().length);
  });
});
