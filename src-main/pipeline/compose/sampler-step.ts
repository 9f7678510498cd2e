// The sampler's update as a graph, so the latents never leave the device between UNet calls: guidance,
// the step (its coefficients from the sampler, one rule for host and device), this step's x̂0 for the next,
// and the next UNet input (both halves of the guidance batch, scaled) in one run. The CPU runs it too.
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import type { Sampler } from '../../schedulers/sampler.js';
import type { HostTensor } from '../../graph/runtime/session.js';

/** Order of the numbers in the step's `k` input. */
const K = ['guidance', 'x', 'eps', 'prev', 'x0x', 'x0eps', 'nextScale', 'noise'] as const;

/**
 * eps [2n, …] (unconditional half first), x and prev [n, …], k (and, for an ancestral sampler, the step's
 * fresh noise [n, …]) → x_next, x0, next_input [2n, …].
 */
export function samplerStepGraph(count: number, latentShape: readonly [number, number, number], options: { noise?: boolean } = {}): Graph {
  const g = new Graph(options.noise ? 'sampler_step_noise' : 'sampler_step');
  const one = [count, ...latentShape];
  const eps = g.input('eps', 'float32', [2 * count, ...latentShape]);
  const x = g.input('x', 'float32', one);
  const prev = g.input('prev', 'float32', one);
  const kIn = g.input('k', 'float32', [K.length]);
  const k = (name: (typeof K)[number]) => op.slice(kIn, 0, K.indexOf(name), K.indexOf(name) + 1);
  // 1. Classifier-free guidance: ε = ε_uncond + g·(ε_cond − ε_uncond)
  const uncond = op.slice(eps, 0, 0, count);
  const guided = op.add(uncond, op.mul(k('guidance'), op.sub(op.slice(eps, 0, count, 2 * count), uncond)));
  // 2. The step and this step's x̂0
  const deterministic = op.add(op.add(op.mul(k('x'), x), op.mul(k('eps'), guided)), op.mul(k('prev'), prev));
  const next = options.noise ? op.add(deterministic, op.mul(k('noise'), g.input('noise', 'float32', one))) : deterministic;
  g.output(next, 'x_next');
  g.output(op.add(op.mul(k('x0x'), x), op.mul(k('x0eps'), guided)), 'x0');
  // 3. The next UNet input: both halves of the guidance batch
  const scaled = op.mul(k('nextScale'), next);
  g.output(op.concat([scaled, scaled], 0), 'next_input');
  return g;
}

/** Step i's `k` feed. */
export function samplerStepK(sampler: Sampler, i: number, guidance: number): HostTensor {
  const c = sampler.coefficients(i);
  const nextScale = i + 1 < sampler.timesteps.length ? sampler.inputScale(i + 1) : 1;
  const values: Record<(typeof K)[number], number> = { guidance, x: c.x, eps: c.eps, prev: c.prev, x0x: c.x0x, x0eps: c.x0eps, nextScale, noise: c.noise };
  return { dtype: 'float32', shape: [K.length], data: Float32Array.from(K.map((n) => values[n])) };
}
