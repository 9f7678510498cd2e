// SingleInsert's losses on predicted clean latents:
//   x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t
//   L_fg = mean(m ⊙ (x̂0* − x0)²)        the concept prompt reproduces the subject
//   L_bg = mean((1−m) ⊙ (x̂0* − x̄0)²)    and leaves the rest as the class prompt would
//   L_sm = mean((x̂0_LoRA(class) − x̄0)²)  Stage II: the class prompt keeps its meaning
import type { Tensor } from '../../graph/ir.js';
import * as op from '../../graph/ops/index.js';

/** x̂0 from ε̂; `sqrtAlphaBar` and `sqrtOneMinus` are per-sample [B,1,1,1]. */
export function predictedX0(xt: Tensor, eps: Tensor, sqrtAlphaBar: Tensor, sqrtOneMinus: Tensor): Tensor {
  return op.div(op.sub(xt, op.mul(sqrtOneMinus, eps)), sqrtAlphaBar);
}

const squared = (t: Tensor) => op.mul(t, t);

/** Mean over all pixels and channels of m ⊙ (a − b)², with m [B,1,h,w] broadcast over channels. */
export function maskedMse(a: Tensor, b: Tensor, mask: Tensor): Tensor {
  return op.meanAll(op.mul(mask, squared(op.sub(a, b))));
}

export const mse = (a: Tensor, b: Tensor) => op.meanAll(squared(op.sub(a, b)));
