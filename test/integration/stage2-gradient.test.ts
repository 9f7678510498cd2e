// Stage II's gradients as SingleInsert's code computes them: its target x̄0 (the frozen UNet on the class
// prompt as the LoRA text encoder reads it) is taken under torch.no_grad(), a constant. The app's step is
// checked against the same losses written here from the models, with x̄0 computed by a separate graph and
// fed in as an input, so nothing can flow through it.
import { describe, expect, it } from 'vitest';
import { grad } from '../../src-main/graph/autodiff.js';
import { Graph } from '../../src-main/graph/graph.js';
import type { Tensor } from '../../src-main/graph/ir.js';
import { encodeModel } from '../../src-main/graph/onnx/serialize.js';
import * as op from '../../src-main/graph/ops/index.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { GraphSession, type HostTensor } from '../../src-main/graph/runtime/session.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { TrainableLora } from '../../src-main/models/lora.js';
import { sharedWeights, trainableFrom, weightsFrom, withAdapters } from '../../src-main/models/params.js';
import { unet } from '../../src-main/models/unet.js';
import { imageEncoder } from '../../src-main/models/vision.js';
import { maskedMse, mse, predictedX0 } from '../../src-main/pipeline/invert/singleinsert-loss.js';
import { stepFeeds } from '../../src-main/pipeline/invert/step-feeds.js';
import { buildSingleInsertStep, STEP_INPUTS } from '../../src-main/pipeline/invert/training-step.js';
import { scaledLinearSchedule } from '../../src-main/schedulers/ddpm-schedule.js';
import { tinyExample, tinySingleInsertModels as models } from '../helpers/tiny-singleinsert.js';

const SHAPE = { batch: 2, latent: [8, 8] as [number, number] };
const RANK = 4;

/** The step's inputs as graph inputs, by name. */
function stepInputs(g: Graph): Record<(typeof STEP_INPUTS)[number], Tensor> {
  const { batch: b } = SHAPE;
  const [h, w] = SHAPE.latent;
  const ch = models.unet.config.inChannels;
  const s = models.vision.config.imageSize;
  const dims: Record<(typeof STEP_INPUTS)[number], number[]> = {
    x0: [b, ch, h, w],
    mask: [b, 1, h, w],
    noise: [b, ch, h, w],
    timestep: [b],
    sqrt_alpha_bar: [b, 1, 1, 1],
    sqrt_one_minus: [b, 1, 1, 1],
    pixels: [b, 3, s, s],
    ids_concept: [b, 77],
    ids_class: [b, 77],
    placeholder_mask: [b, 77, 1],
  };
  return Object.fromEntries(STEP_INPUTS.map((n) => [n, g.input(n, n.startsWith('ids_') ? 'int64' : 'float32', dims[n])])) as never;
}

/** The frozen models, and the LoRA'd text and UNet, as one graph sees them. */
function modelsIn(g: Graph, lora: TrainableLora) {
  const text = sharedWeights(g, weightsFrom(g, models.textEncoder.source));
  const u = sharedWeights(g, weightsFrom(g, models.unet.source, { prefix: 'unet.' }));
  return { text, u, loraText: withAdapters(text, [lora]), loraU: withAdapters(u, [lora]) };
}

/** x̄0, alone: the frozen UNet on the class prompt as the LoRA text encoder reads it. */
function targetGraph(): Graph {
  const g = new Graph('target');
  const x = stepInputs(g);
  const { loraText, u } = modelsIn(g, new TrainableLora(RANK));
  const xt = op.add(op.mul(x.sqrt_alpha_bar, x.x0), op.mul(x.sqrt_one_minus, x.noise));
  const classText = clipTextEncoder(loraText, models.textEncoder.config, { inputIds: x.ids_class });
  const eps = unet(u, models.unet.config, { sample: xt, timestep: x.timestep, encoderHiddenStates: classText });
  g.output(predictedX0(xt, eps, x.sqrt_alpha_bar, x.sqrt_one_minus), 'target');
  return g;
}

/**
 * L = L_fg + L_bg + L_sm (γ = η = 1) written from the models, with x̄0 an input (`fedTarget`) or computed in
 * the graph and differentiated through (the mistake the step must not make).
 */
function referenceGraph(fedTarget: boolean): { g: Graph; loss: Tensor; params: Tensor[] } {
  const g = new Graph('reference');
  const x = stepInputs(g);
  const lora = new TrainableLora(RANK);
  const mapper = trainableFrom(g, models.mapper);
  const vision = trainableFrom(g, models.vision.source);
  const { loraText, u, loraU } = modelsIn(g, lora);
  const token = imageEncoder(vision, mapper, models.vision.config, x.pixels);
  const xt = op.add(op.mul(x.sqrt_alpha_bar, x.x0), op.mul(x.sqrt_one_minus, x.noise));
  const x0Of = (factory: typeof u, hidden: Tensor) =>
    predictedX0(xt, unet(factory, models.unet.config, { sample: xt, timestep: x.timestep, encoderHiddenStates: hidden }), x.sqrt_alpha_bar, x.sqrt_one_minus);
  const conceptText = clipTextEncoder(loraText, models.textEncoder.config, {
    inputIds: x.ids_concept,
    placeholders: { embeds: token, mask: x.placeholder_mask },
  });
  const classText = clipTextEncoder(loraText, models.textEncoder.config, { inputIds: x.ids_class });
  const target = fedTarget ? g.input('target', 'float32', x.x0.shape) : x0Of(u, classText);
  const x0Concept = x0Of(loraU, conceptText);
  const loss = op.add(op.add(maskedMse(x0Concept, x.x0, x.mask), maskedMse(x0Concept, target, op.sub(1, x.mask))), mse(x0Of(loraU, classText), target));
  return { g, loss, params: [...mapper.params, ...vision.params, ...lora.params] };
}

/** Runs a graph on the CPU with the step's feeds and parameter values; its named outputs. */
async function run(g: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, Float32Array>> {
  const session = await GraphSession.load(encodeModel(g));
  const wanted = Object.fromEntries(g.inputs.map((i) => [i.tensor.name, feeds[i.tensor.name]!]));
  const out = await session.run(wanted);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([n, t]) => [n, t.data as Float32Array]));
}

const withGradients = (g: Graph, loss: Tensor, params: Tensor[]) => {
  grad(loss, params).forEach((t, i) => g.output(t, `grad:${params[i]!.name}`));
  g.output(loss, 'loss');
  return g;
};

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('Stage II gradients: the target x̄0 is a constant, as in SingleInsert code', () => {
  it('equal, for every LoRA, mapper and ViT entry, the gradients of the same losses with x̄0 computed apart and fed in', async () => {
    // 1. The app's Stage II step, and its parameters at a point where the LoRA is not zero
    const app = new Graph('step');
    const step = buildSingleInsertStep(app, models, SHAPE, { stage: 2, loraRank: RANK, trainVision: true });
    const rng = new SeededRandom(77);
    const values: Record<string, HostTensor> = {};
    for (const p of step.params) {
      const start = step.initialParams![p.name]!;
      const data = p.name.endsWith('lora_B.weight') ? Float32Array.from(start, () => 0.05 * rng.normal()) : start;
      values[p.name] = { dtype: 'float32', shape: [...p.shape], data };
    }
    const feeds = { ...stepFeeds(tinyExample(), SHAPE, new SeededRandom(12), scaledLinearSchedule()), ...values };
    const fromApp = await run(withGradients(app, step.loss, step.params), feeds);

    // 2. x̄0 by its own graph, fed to the reference as a constant
    const target = (await run(targetGraph(), feeds)).target!;
    const fed = referenceGraph(true);
    const reference = await run(withGradients(fed.g, fed.loss, fed.params), {
      ...feeds,
      target: { dtype: 'float32', shape: [SHAPE.batch, 4, 8, 8], data: target },
    });

    // 3. Same loss, same gradient for every parameter (float32 through two graphs of different shapes)
    expect(fed.params.map((p) => p.name).sort()).toEqual(step.params.map((p) => p.name).sort());
    expect(fromApp.loss![0]).toBeCloseTo(reference.loss![0]!, 5);
    const mismatched: string[] = [];
    for (const p of step.params) {
      const a = fromApp[`grad:${p.name}`]!;
      const b = reference[`grad:${p.name}`]!;
      if (maxDiff(a, b) > 1e-6 + 1e-4 * maxAbs(b)) mismatched.push(`${p.name}: max |Δ| ${maxDiff(a, b).toExponential(2)} of ${maxAbs(b).toExponential(2)}`);
    }
    expect(mismatched).toEqual([]);

    // 4. The check has teeth here: differentiating through x̄0 moves the text encoder's LoRA gradients a lot
    const through = referenceGraph(false);
    const wrong = await run(withGradients(through.g, through.loss, through.params), feeds);
    const textUp = step.params.map((p) => p.name).filter((n) => n.startsWith('text_model') && n.endsWith('lora_B.weight'));
    const worst = Math.max(...textUp.map((n) => maxDiff(wrong[`grad:${n}`]!, reference[`grad:${n}`]!) / maxAbs(reference[`grad:${n}`]!)));
    expect(worst).toBeGreaterThan(0.01);
  }, 120_000);
});
