// LPIPS (Zhang et al. 2018) on AlexNet's trunk, as the lpips package computes it at its defaults: the report
// card's DIV is the mean pairwise distance between the images of one prompt. Names are lpips' own
// (net.sliceK.<torchvision features index>, linK.model.1); weights-side renaming lives in the loader.
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import { AppError } from '../common/app-error.js';
import type { ParamFactory } from './params.js';

export interface LpipsConfig {
  /** The five conv widths (AlexNet's: 64, 192, 384, 256, 256), read from the weights. */
  channels: readonly [number, number, number, number, number];
}

export const LPIPS_ALEX: LpipsConfig = { channels: [64, 192, 384, 256, 256] };

/** AlexNet's five convs: torchvision's features index, kernel, stride, padding, and whether a 3/2 max-pool comes first. */
export const LPIPS_ALEX_LAYERS = [
  { index: 0, kernel: 11, stride: 4, padding: 2, poolBefore: false },
  { index: 3, kernel: 5, stride: 1, padding: 2, poolBefore: true },
  { index: 6, kernel: 3, stride: 1, padding: 1, poolBefore: true },
  { index: 8, kernel: 3, stride: 1, padding: 1, poolBefore: false },
  { index: 10, kernel: 3, stride: 1, padding: 1, poolBefore: false },
] as const;

/** lpips' ScalingLayer: inputs in [-1, 1] shifted and scaled towards ImageNet statistics. */
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];

/** AlexNet needs at least this many pixels a side for its last feature map to be non-empty. */
export const LPIPS_MIN_SIZE = 32;

function checkLpipsConfig(cfg: LpipsConfig): void {
  if (cfg.channels.length !== 5 || cfg.channels.some((c) => !Number.isInteger(c) || c <= 0)) {
    throw new AppError('unsupported-model', `LPIPS config: channels must be five positive integers, got [${cfg.channels.join(', ')}]`);
  }
}

/** Unit-normalise along channels, with lpips' 1e-10 in the denominator. */
function unitChannels(x: Tensor): Tensor {
  return op.div(x, op.add(op.sqrt(op.reduceSum(op.mul(x, x), [1], true)), 1e-10));
}

/** Images a, b [B, 3, H, W] in [-1, 1] → the LPIPS distance per pair [B]. */
export function lpipsDistance(p: ParamFactory, cfg: LpipsConfig, a: Tensor, b: Tensor): Tensor {
  checkLpipsConfig(cfg);
  op.assertSameShape('LPIPS', a, b);
  const g = a.graph;
  const batch = a.shape[0]!;
  if (a.shape[2]! < LPIPS_MIN_SIZE || a.shape[3]! < LPIPS_MIN_SIZE) {
    throw new AppError('invalid-input', `LPIPS needs images of at least ${LPIPS_MIN_SIZE}×${LPIPS_MIN_SIZE}, got ${a.shape[2]}×${a.shape[3]}`);
  }
  const shift = g.constant('float32', [1, 3, 1, 1], SHIFT);
  const scale = g.constant('float32', [1, 3, 1, 1], SCALE);
  // 1. One trunk pass over both images (a then b along the batch), keeping each slice's ReLU output
  let x = op.div(op.sub(op.concat([a, b], 0), shift), scale);
  const features: Tensor[] = [];
  let inChannels = 3;
  LPIPS_ALEX_LAYERS.forEach((layer, k) => {
    if (layer.poolBefore) x = op.maxPool2d(x, 3, 2);
    const out = cfg.channels[k]!;
    x = g.scope(`net.slice${k + 1}.${layer.index}`, () =>
      op.conv2d(x, p.weight('weight', [out, inChannels, layer.kernel, layer.kernel]), p.weight('bias', [out]), {
        stride: layer.stride,
        padding: layer.padding,
      }),
    );
    x = op.relu(x);
    features.push(x);
    inChannels = out;
  });
  // 2. Per slice: squared difference of unit features, weighted by a 1×1 conv, averaged over space; summed
  const perSlice = features.map((f, k) => {
    const [fa, fb] = op.split(unitChannels(f), 0, [batch, batch]) as [Tensor, Tensor];
    const diff = op.mul(op.sub(fa, fb), op.sub(fa, fb));
    const weighted = g.scope(`lin${k}.model.1`, () => op.conv2d(diff, p.weight('weight', [1, cfg.channels[k]!, 1, 1])));
    return op.reshape(op.reduceMean(weighted, [1, 2, 3]), [batch]);
  });
  return perSlice.reduce((sum, d) => op.add(sum, d));
}
