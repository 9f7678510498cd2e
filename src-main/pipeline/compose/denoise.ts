// The sampling loop: the UNet over both halves of the guidance batch at once, guided, stepped by the
// sampler, from the starting latents to the final ones. Concepts with regions act only inside them.
import { AppError } from '../../common/app-error.js';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import { DEFAULT_SCORE_LIMIT } from '../../graph/runtime/checkpointed-trainer.js';
import type { HostTensor } from '../../graph/runtime/session.js';
import type { LoraAdapter } from '../../models/lora.js';
import { weightsFrom } from '../../models/params.js';
import { Regions } from '../../models/regional.js';
import { unet } from '../../models/unet.js';
import { type Sampler, stepNoiseOf } from '../../schedulers/sampler.js';
import { disposeTensor } from '../../graph/runtime/device-tensors.js';
import { hostValues, tensorsFor } from '../../graph/runtime/pooled-session.js';
import { samplerStepGraph, samplerStepK } from './sampler-step.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import { unguided } from './guidance.js';
import { TOKENS } from './prompt.js';
import type { SessionLoader } from './sessions.js';

export interface DenoiseProgress {
  step: number;
  total: number;
  /** Estimated time left, from the mean step time so far. */
  etaMs: number;
  /** The latents after this step (all images), for a cheap preview. */
  latents: Float32Array;
}

export interface DenoiseInput {
  /** [2, 77, d]: negative, then prompt. */
  hidden: Float32Array;
  latents: Float32Array;
  count: number;
  latentShape: [channels: number, h: number, w: number];
  guidance: number;
  adapters: readonly LoraAdapter[];
  /** Regional concepts (their adapter labels) and their feeds (regions.ts). */
  regions: { labels: string[]; feeds: Record<string, HostTensor> } | null;
  /** An ancestral sampler's fresh noise, one call a step ([count, …latentShape] each; latents.ts stepNoise). */
  stepNoise?: () => Float32Array;
  /**
   * Inpainting: where each image is redrawn (mask [count, 1, h, w], 1 redrawn, soft at the edge); elsewhere the start
   * image's latents come back after every step at its noise level, from the same noise the start was drawn with.
   */
  keep?: { mask: Float32Array; latents: Float32Array; noise: Float32Array };
}

export async function denoise(
  model: StableDiffusionModel,
  sampler: Sampler,
  input: DenoiseInput,
  load: SessionLoader,
  dtype: FloatDType,
  options: {
    signal?: AbortSignal;
    onProgress?: (p: DenoiseProgress) => void;
    /** Attention in chunks of queries (beside a training run, where memory is the run's). */
    lean?: boolean;
    /** Most elements one attention score tensor may have (a GPU's buffer binding limit), whatever `lean` says. */
    scoreLimit?: number;
  } = {},
): Promise<{ latents: Float32Array; fallback: string | null }> {
  const n = input.count;
  const [channels, h, w] = input.latentShape;
  const d = model.textEncoder.config.hiddenSize;
  const perImage = TOKENS * d;
  // guidance 1: the prompt's half alone (unguided); else the unconditional half first, then the prompt's
  const guided = !unguided(input.guidance);
  const rows = guided ? 2 * n : n;
  const context = new Float32Array(rows * perImage);
  for (let i = 0; i < n; i++) {
    if (guided) context.set(input.hidden.subarray(0, perImage), i * perImage);
    context.set(input.hidden.subarray(perImage), (rows - n + i) * perImage);
  }

  const g = new Graph('unet');
  const limits = [options.lean ? DEFAULT_SCORE_LIMIT : Infinity, options.scoreLimit ?? Infinity];
  if (Math.min(...limits) < Infinity) g.attentionScoreLimit = Math.min(...limits);
  const sample = g.input('sample', 'float32', [rows, channels, h, w]);
  const timestep = g.input('timestep', 'float32', [rows]);
  const ehs = g.input('encoder_hidden_states', 'float32', [rows, TOKENS, d]);
  const regions = input.regions ? new Regions(g, input.regions.labels, rows) : undefined;
  const eps = unet(weightsFrom(g, model.unet.source, { dtype, prefix: 'unet.', adapters: input.adapters }), model.unet.config, {
    sample: op.cast(sample, dtype),
    timestep,
    encoderHiddenStates: op.cast(ehs, dtype),
    ...(regions ? { regions } : {}),
  });
  g.output(op.cast(eps, 'float32'), 'eps');
  // the levels whose attention reads a mask (the feeds hold every level's)
  const declared = new Set(g.inputs.map((i) => i.tensor.name));
  const regionFeeds = Object.fromEntries(Object.entries(input.regions?.feeds ?? {}).filter(([name]) => declared.has(name)));
  const session = await load(g);
  if (sampler.stochastic && !input.stepNoise) throw new Error(`${sampler.name} adds noise at each step: give denoise its stepNoise`);
  const stepper = await load(
    samplerStepGraph(n, input.latentShape, { noise: sampler.stochastic, corrector: sampler.corrector, inpaint: !!input.keep, unguided: !guided }),
  );
  const steps = sampler.timesteps.length;
  const perLatent = channels * h * w;
  const one = [n, channels, h, w];
  const started = performance.now();
  // 1. What every step reads, where the sessions compute (on a GPU: uploaded once): the prompts, the
  //    regions, the latents, the previous x̂0 and the first UNet input (both halves of the guidance batch, or the one)
  const scaled = sampler.scaleModelInput(input.latents, 0);
  const firstInput = new Float32Array(rows * perLatent);
  firstInput.set(scaled, 0);
  if (guided) firstInput.set(scaled, n * perLatent);
  const regionNames = Object.keys(regionFeeds);
  const zeros = (): HostTensor => ({ dtype: 'float32', shape: one, data: new Float32Array(n * perLatent) });
  // a corrector (UniPC) also carries the x̂0 before last and the last corrected x: two more latents on the device
  const [ctx, x0, prev0, in0, ...rest] = await tensorsFor(session, [
    { dtype: 'float32', shape: [rows, TOKENS, d], data: context },
    { dtype: 'float32', shape: one, data: input.latents },
    zeros(),
    { dtype: 'float32', shape: [rows, channels, h, w], data: firstInput },
    ...(sampler.corrector ? [zeros(), zeros()] : []),
    ...regionNames.map((r) => regionFeeds[r]!),
  ]);
  const carried = sampler.corrector ? rest.splice(0, 2) : [];
  const keep = input.keep
    ? await tensorsFor(stepper, [
        { dtype: 'float32', shape: [n, 1, h, w], data: input.keep.mask },
        { dtype: 'float32', shape: one, data: input.keep.latents },
        { dtype: 'float32', shape: one, data: input.keep.noise },
      ])
    : [];
  const keepFeeds: Record<string, (typeof keep)[number]> = keep.length ? { keep_mask: keep[0]!, keep_x0: keep[1]!, keep_noise: keep[2]! } : {};
  const regionTensors = rest;
  const regionOnDevice = Object.fromEntries(regionNames.map((r, i) => [r, regionTensors[i]!]));
  let [x, prev, unetInput] = [x0!, prev0!, in0!];
  let [prev2, last] = carried;
  let lastNoise: Float32Array | null = null;
  try {
    // 2. Each step: the UNet, then the sampler's update on its output; only the timestep and the step's numbers go up
    for (let s = 0; s < steps; s++) {
      if (options.signal?.aborted) throw new AppError('cancelled', `Generation cancelled at step ${s} of ${steps}.`);
      const { eps } = await session.runTensors({
        sample: unetInput,
        timestep: { dtype: 'float32', shape: [rows], data: new Float32Array(rows).fill(sampler.timesteps[s]!) },
        encoder_hidden_states: ctx!,
        ...regionOnDevice,
      });
      // the step's noise: fresh, or carrying the last step's where the sampler's path asks (stepNoiseOf)
      if (sampler.stochastic) lastNoise = stepNoiseOf(sampler.coefficients(s), input.stepNoise!(), lastNoise);
      const noise: Record<string, HostTensor> = lastNoise ? { noise: { dtype: 'float32', shape: one, data: lastNoise } } : {};
      const history = prev2 && last ? { prev2, last } : ({} as Record<string, never>);
      const out = await stepper.runTensors({ eps: eps!, x, prev, k: samplerStepK(sampler, s, input.guidance), ...noise, ...history, ...keepFeeds });
      if (prev2 && last) {
        // this step's x̂0_prev becomes the next one's x̂0_prev2; its corrected x the next one's x_last
        for (const t of [eps!, x, prev2, last, unetInput]) disposeTensor(t);
        [prev2, last] = [prev, out.corrected!];
      } else for (const t of [eps!, x, prev, unetInput]) disposeTensor(t);
      [x, prev, unetInput] = [out.x_next!, out.x0!, out.next_input!];
      if (options.onProgress) {
        const elapsed = performance.now() - started;
        const latents = (await hostValues(stepper, x)).data as Float32Array;
        options.onProgress({ step: s + 1, total: steps, etaMs: (elapsed / (s + 1)) * (steps - s - 1), latents });
      }
    }
    // 3. The final latents, the one readback that is not a preview
    return { latents: Float32Array.from((await hostValues(stepper, x)).data as Float32Array), fallback: session.fallback };
  } finally {
    for (const t of [x, prev, unetInput, ctx!, ...(prev2 && last ? [prev2, last] : []), ...regionTensors, ...keep]) disposeTensor(t);
    await stepper.release();
    await session.release();
  }
}
