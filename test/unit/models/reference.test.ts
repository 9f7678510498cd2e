// The models and samplers against PyTorch + diffusers: scripts/reference/make_goldens.py built a tiny SD 1.x
// pipeline with seeded random weights, saved it as a diffusers folder and ran it on fixed inputs; here the
// app opens that folder with its own loader and must give the same numbers (max |error| ≤ 1e-4 × max |value|).
// The GPU project runs this file again on WebGPU, in float32, at the same tolerance.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad } from '../../../src-main/graph/autodiff.js';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';
import { type GraphSession, sessionForGraph } from '../../../src-main/graph/runtime/session.js';
import { clipTextEncoder } from '../../../src-main/models/clip-text.js';
import { type AttentionImpl, weightsFrom } from '../../../src-main/models/params.js';
import { attention } from '../../../src-main/graph/nn.js';
import type { Tensor } from '../../../src-main/graph/ir.js';
import { unet } from '../../../src-main/models/unet.js';
import { vaeDecode, vaeLatentDistribution } from '../../../src-main/models/vae.js';
import { createSampler, guide, type SamplerName } from '../../../src-main/schedulers/sampler.js';
import { denoise } from '../../../src-main/pipeline/compose/denoise.js';
import { sessionLoader } from '../../../src-main/pipeline/compose/sessions.js';
import { openStableDiffusion } from '../../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../../src-main/weights/sd-model.js';
import { testProvider } from '../../helpers/test-provider.js';
import { expectCloseToGolden as expectClose, golden, goldenShape as shapeOf, REFERENCE_MODEL, runGraph } from '../../helpers/reference-goldens.js';

let model: StableDiffusionModel;
let cacheDir: string;

const run = (g: Graph, feeds: Record<string, Float32Array | BigInt64Array>) => runGraph(g, feeds, { cacheDir, provider: testProvider() });

const ids = () => BigInt64Array.from(golden('text.ids'), (v) => BigInt(v));

describe('models and samplers against diffusers (tiny SD 1.x, seeded random weights)', () => {
  beforeAll(() => {
    model = openStableDiffusion(REFERENCE_MODEL);
    cacheDir = mkdtempSync(join(tmpdir(), 'si-reference-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('the loader reads the config the goldens were made with (heads and groups unlike SD’s)', () => {
    expect(model.unet.config).toMatchObject({ blockOutChannels: [32, 64], heads: 4, normGroups: 16, crossAttentionDim: 48, attentionLevels: [true, false] });
    expect(model.textEncoder.config).toMatchObject({ hiddenSize: 48, heads: 6, layers: 2, vocabSize: 1000 });
    expect(model.vae.config).toMatchObject({ blockOutChannels: [32, 64], normGroups: 16 });
  });

  it('CLIP text encoder: last hidden state after the final LayerNorm', async () => {
    const g = new Graph('text');
    g.output(
      clipTextEncoder(weightsFrom(g, model.textEncoder.source), model.textEncoder.config, { inputIds: g.input('ids', 'int64', shapeOf('text.ids')) }),
      'hidden',
    );
    expectClose((await run(g, { ids: ids() })).hidden!, 'text.hidden');
  });

  it('UNet: ε for a batch of two timesteps (981 and a fractional 37.5)', async () => {
    const g = new Graph('unet');
    const eps = unet(weightsFrom(g, model.unet.source, { prefix: 'unet.' }), model.unet.config, {
      sample: g.input('sample', 'float32', shapeOf('unet.sample')),
      timestep: g.input('t', 'float32', shapeOf('unet.timestep')),
      encoderHiddenStates: g.input('context', 'float32', shapeOf('text.hidden')),
    });
    g.output(eps, 'eps');
    expectClose((await run(g, { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden') })).eps!, 'unet.eps');
  });

  it('an attention implementation in the model context is used by every attention layer (queries in chunks: the same ε)', async () => {
    const g = new Graph('unet-chunked');
    let calls = 0;
    // a memory-saving attention: queries in chunks of 7 tokens, each against all keys
    const chunked: AttentionImpl = (q, k, v, mask = null) => {
      calls++;
      const n = q.shape[2]!;
      const parts: Tensor[] = [];
      for (let start = 0; start < n; start += 7) parts.push(attention(op.slice(q, 2, start, Math.min(n, start + 7)), k, v, mask));
      return parts.length === 1 ? parts[0]! : op.concat(parts, 2);
    };
    const eps = unet(weightsFrom(g, model.unet.source, { prefix: 'unet.', attention: chunked }), model.unet.config, {
      sample: g.input('sample', 'float32', shapeOf('unet.sample')),
      timestep: g.input('t', 'float32', shapeOf('unet.timestep')),
      encoderHiddenStates: g.input('context', 'float32', shapeOf('text.hidden')),
    });
    g.output(eps, 'eps');
    // self- and cross-attention in each transformer: one down, one middle, two up
    expect(calls).toBe(2 * 4);
    expectClose((await run(g, { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden') })).eps!, 'unet.eps');
  });

  it('UNet backward: the gradient of Σ ε·R with respect to the text states', async () => {
    const g = new Graph('unet-grad');
    const context = g.input('context', 'float32', shapeOf('text.hidden'));
    const eps = unet(weightsFrom(g, model.unet.source, { prefix: 'unet.' }), model.unet.config, {
      sample: g.input('sample', 'float32', shapeOf('unet.sample')),
      timestep: g.input('t', 'float32', shapeOf('unet.timestep')),
      encoderHiddenStates: context,
    });
    const loss = op.sumAll(op.mul(eps, g.input('r', 'float32', shapeOf('grad.weights'))));
    g.output(grad(loss, [context])[0]!, 'dcontext');
    const out = await run(g, { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden'), r: golden('grad.weights') });
    expectClose(out.dcontext!, 'grad.states');
  });

  it('VAE: the encoder’s posterior (mean and std, × scaling factor) and the decoder', async () => {
    const g = new Graph('vae');
    const posterior = vaeLatentDistribution(
      weightsFrom(g, model.vae.source, { prefix: 'vae.' }),
      model.vae.config,
      g.input('image', 'float32', shapeOf('vae.image')),
    );
    g.output(posterior.mean, 'mean');
    g.output(posterior.std, 'std');
    g.output(
      vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.' }), model.vae.config, g.input('latents', 'float32', shapeOf('vae.latents'))),
      'decoded',
    );
    const out = await run(g, { image: golden('vae.image'), latents: golden('vae.latents') });
    expectClose(out.mean!, 'vae.mean');
    expectClose(out.std!, 'vae.std');
    expectClose(out.decoded!, 'vae.decoded');
  });

  describe('3-step sampling with guidance 7.5, the real UNet predicting ε', () => {
    // the goldens hold x after every UNet call: DPM++ SDE makes two a step (but one the last)
    const stepsOf = (name: SamplerName) => ((calls: number) => (name === 'dpmpp_sde' ? (calls + 1) / 2 : calls))(shapeOf(`${name}.x`)[0]!);
    let unetSession: GraphSession;
    beforeAll(async () => {
      const g = new Graph('unet-step');
      const latentShape = shapeOf('sample.noise');
      g.output(
        unet(weightsFrom(g, model.unet.source, { prefix: 'unet.' }), model.unet.config, {
          sample: g.input('sample', 'float32', [2, ...latentShape.slice(1)]),
          timestep: g.input('t', 'float32', [2]),
          encoderHiddenStates: g.input('context', 'float32', shapeOf('text.hidden')),
        }),
        'eps',
      );
      unetSession = await sessionForGraph(g, { cacheDir, provider: testProvider() });
    });
    afterAll(() => unetSession.release());

    it.each(['ddim', 'euler', 'euler_a', 'dpmpp2m', 'dpmpp2m_sde', 'dpmpp_sde', 'unipc', 'lcm', 'tcd'] as SamplerName[])(
      '%s: timesteps and every step’s latents',
      async (name) => {
        const steps = stepsOf(name);
        const sampler = createSampler(name, steps);
        expectClose(sampler.timesteps, `${name}.timesteps`);
        // the goldens condition row 0 on prompt 1 and row 1 (unconditional) on prompt 0
        const hidden = golden('text.hidden');
        const row = hidden.length / 2;
        const context = new Float32Array(hidden.length);
        context.set(hidden.subarray(row), 0);
        context.set(hidden.subarray(0, row), row);
        const n = golden('sample.noise').length;
        let x: Float32Array = golden('sample.noise').map((v) => v * sampler.initNoiseSigma);
        const calls = sampler.timesteps.length;
        const trajectory = new Float32Array(calls * n);
        for (let i = 0; i < calls; i++) {
          const input = sampler.scaleModelInput(x, i);
          const both = new Float32Array(2 * n);
          both.set(input, 0);
          both.set(input, n);
          const t = sampler.timesteps[i]!;
          const out = await unetSession.run({
            sample: { dtype: 'float32', shape: [2, ...shapeOf('sample.noise').slice(1)], data: both },
            t: { dtype: 'float32', shape: [2], data: Float32Array.of(t, t) },
            context: { dtype: 'float32', shape: shapeOf('text.hidden'), data: context },
          });
          const eps = out.eps!.data as Float32Array;
          // an ancestral or SDE sampler's fresh noise: the one diffusers drew at that step
          const noise = sampler.stochastic ? golden(`${name}.step_noise`).subarray(i * n, (i + 1) * n) : undefined;
          x = sampler.step(guide(eps.subarray(n), eps.subarray(0, n), 7.5), i, x, noise);
          trajectory.set(x, i * n);
        }
        expectClose(trajectory, `${name}.x`);
      },
    );

    // the app's own sampling loop (denoise.ts: the step graph, the latents kept where the sessions compute, the
    // multistep samplers' history carried from step to step) lands where diffusers does
    it.each(['ddim', 'euler_a', 'dpmpp2m', 'dpmpp2m_sde', 'dpmpp_sde', 'unipc', 'lcm', 'tcd'] as SamplerName[])(
      '%s: the sampling loop’s last latents',
      async (name) => {
        const steps = stepsOf(name);
        const sampler = createSampler(name, steps);
        const n = golden('sample.noise').length;
        let step = 0;
        const noise = sampler.stochastic ? golden(`${name}.step_noise`) : null;
        const { latents } = await denoise(
          model,
          sampler,
          {
            hidden: golden('text.hidden'), // row 0 the unconditional prompt, row 1 the prompt, as the goldens guide
            latents: golden('sample.noise').map((v) => v * sampler.initNoiseSigma),
            count: 1,
            latentShape: shapeOf('sample.noise').slice(1) as [number, number, number],
            guidance: 7.5,
            adapters: [],
            regions: null,
            ...(noise ? { stepNoise: () => noise.slice(step * n, ++step * n) } : {}),
          },
          sessionLoader({ provider: testProvider(), cacheDir }),
          'float32',
        );
        const all = golden(`${name}.x`);
        const lastStep = all.slice((sampler.timesteps.length - 1) * n);
        const scale = Math.max(...lastStep.map(Math.abs));
        latents.forEach((v, i) => expect(Math.abs(v - lastStep[i]!), `${name} at ${i}`).toBeLessThanOrEqual(1e-4 * scale));
      },
    );

    // img2img: an image's latents noised to the first step strength 0.7 runs, then the app's loop, as diffusers' img2img pipeline
    it.each(['ddim', 'dpmpp2m'] as SamplerName[])('%s img2img (3 steps at strength 0.7): the sampling loop’s last latents', async (name) => {
      const sampler = createSampler(name, 3, undefined, { strength: 0.7 });
      expectClose(sampler.timesteps, `img2img.${name}.timesteps`);
      const level = sampler.noiseLevel(0);
      const noise = golden('sample.noise');
      const { latents } = await denoise(
        model,
        sampler,
        {
          hidden: golden('text.hidden'),
          latents: golden('img2img.init').map((v, j) => level.signal * v + level.noise * noise[j]!),
          count: 1,
          latentShape: shapeOf('sample.noise').slice(1) as [number, number, number],
          guidance: 7.5,
          adapters: [],
          regions: null,
        },
        sessionLoader({ provider: testProvider(), cacheDir }),
        'float32',
      );
      const all = golden(`img2img.${name}.x`);
      const lastStep = all.slice(all.length - latents.length);
      const scale = Math.max(...lastStep.map(Math.abs));
      latents.forEach((v, i) => expect(Math.abs(v - lastStep[i]!), `${name} at ${i}`).toBeLessThanOrEqual(1e-4 * scale));
    });
  });
});
