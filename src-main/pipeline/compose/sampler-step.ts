// The sampler's update as a graph, so the latents never leave the device between UNet calls: guidance,
// the step (its coefficients from the sampler, one rule for host and device), this step's x̂0 for the next,
// and the next UNet input (both halves of the guidance batch, scaled) in one run. The CPU runs it too.
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import type { Sampler } from '../../schedulers/sampler.js';
import type { HostTensor } from '../../graph/runtime/session.js';

/** Order of the numbers in the step's `k` input. */
const K = [
  'guidance',
  'x',
  'eps',
  'prev',
  'x0x',
  'x0eps',
  'nextScale',
  'noise',
  'prev2',
  'last',
  'cx',
  'ceps',
  'cprev',
  'cprev2',
  'clast',
  'keepSignal',
  'keepNoise',
] as const;

/** How many numbers a step sends up besides its timestep (the `k` input). */
export const SAMPLER_STEP_NUMBERS = K.length;

/**
 * eps [2n, …] (unconditional half first), x and prev [n, …], k (and, for an ancestral or SDE sampler, the step's
 * fresh noise [n, …]; for a corrector, prev2 and last [n, …]; for inpainting, keep_mask [n, 1, h, w] (1: redrawn),
 * keep_x0 and keep_noise [n, …]) → x_next, x0, next_input [2n, …] (and corrected).
 */
export function samplerStepGraph(
  count: number,
  latentShape: readonly [number, number, number],
  options: { noise?: boolean; corrector?: boolean; inpaint?: boolean; unguided?: boolean } = {},
): Graph {
  const g = new Graph(
    ['sampler_step', options.noise ? 'noise' : '', options.corrector ? 'corrector' : '', options.inpaint ? 'inpaint' : '', options.unguided ? 'unguided' : '']
      .filter(Boolean)
      .join('_'),
  );
  const one = [count, ...latentShape];
  const eps = g.input('eps', 'float32', [(options.unguided ? 1 : 2) * count, ...latentShape]);
  const x = g.input('x', 'float32', one);
  const prev = g.input('prev', 'float32', one);
  const kIn = g.input('k', 'float32', [K.length]);
  const k = (name: (typeof K)[number]) => op.slice(kIn, 0, K.indexOf(name), K.indexOf(name) + 1);
  // 1. Classifier-free guidance: ε = ε_uncond + g·(ε_cond − ε_uncond)
  //    (unguided: the batch is the prompt's ε̂ alone)
  const uncond = options.unguided ? null : op.slice(eps, 0, 0, count);
  const guided = uncond ? op.add(uncond, op.mul(k('guidance'), op.sub(op.slice(eps, 0, count, 2 * count), uncond))) : eps;
  // 2. The step and this step's x̂0
  let next = op.add(op.add(op.mul(k('x'), x), op.mul(k('eps'), guided)), op.mul(k('prev'), prev));
  if (options.corrector) {
    // UniPC: the x̂0 before last and the last corrected x join the step, and this step's corrected x is kept
    const prev2 = g.input('prev2', 'float32', one);
    const last = g.input('last', 'float32', one);
    next = op.add(next, op.add(op.mul(k('prev2'), prev2), op.mul(k('last'), last)));
    const corrected = [op.mul(k('cx'), x), op.mul(k('ceps'), guided), op.mul(k('cprev'), prev), op.mul(k('cprev2'), prev2), op.mul(k('clast'), last)].reduce(
      (a, b) => op.add(a, b),
    );
    g.output(corrected, 'corrected');
  }
  if (options.noise) next = op.add(next, op.mul(k('noise'), g.input('noise', 'float32', one)));
  if (options.inpaint) {
    // outside the mask the start image comes back, noised to where x now stands (diffusers' inpainting with a
    // text-to-image UNet): x = m·x + (1 − m)·(a·x0_start + b·ε_start)
    const [h, w] = [latentShape[1], latentShape[2]];
    const mask = g.input('keep_mask', 'float32', [count, 1, h, w]);
    const kept = op.add(op.mul(k('keepSignal'), g.input('keep_x0', 'float32', one)), op.mul(k('keepNoise'), g.input('keep_noise', 'float32', one)));
    next = op.add(op.mul(mask, next), op.mul(op.sub(1, mask), kept));
  }
  g.output(next, 'x_next');
  g.output(op.add(op.mul(k('x0x'), x), op.mul(k('x0eps'), guided)), 'x0');
  // 3. The next UNet input: both halves of the guidance batch
  const scaled = op.mul(k('nextScale'), next);
  g.output(options.unguided ? scaled : op.concat([scaled, scaled], 0), 'next_input');
  return g;
}

/** Step i's `k` feed. */
export function samplerStepK(sampler: Sampler, i: number, guidance: number): HostTensor {
  const c = sampler.coefficients(i);
  const nextScale = i + 1 < sampler.timesteps.length ? sampler.inputScale(i + 1) : 1;
  const r = c.corrected ?? { x: 1, eps: 0, prev: 0, prev2: 0, last: 0 };
  const kept = sampler.noiseLevel(i + 1);
  const values: Record<(typeof K)[number], number> = {
    guidance,
    x: c.x,
    eps: c.eps,
    prev: c.prev,
    x0x: c.x0x,
    x0eps: c.x0eps,
    nextScale,
    noise: c.noise,
    prev2: c.prev2 ?? 0,
    last: c.last ?? 0,
    cx: r.x,
    ceps: r.eps,
    cprev: r.prev,
    cprev2: r.prev2,
    clast: r.last,
    keepSignal: kept.signal,
    keepNoise: kept.noise,
  };
  return { dtype: 'float32', shape: [K.length], data: Float32Array.from(K.map((n) => values[n])) };
}
