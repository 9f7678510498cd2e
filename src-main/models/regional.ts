// Regional composition: each concept acts only inside its region of the image. Its prompt tokens are
// attended to only by the pixels inside (cross-attention bias at every UNet resolution), and its LoRA
// delta is added only there: on the spatial projections by the mask of the pixel a feature belongs
// to, and on cross-attention's keys and values through the linearity of attention in them —
//   scores = Q·K0ᵀ + Σc mc ⊙ Q·ΔKcᵀ,   out = P·V0 + Σc mc ⊙ P·ΔVc
// so with every region the whole canvas this is exactly plain composition (all LoRAs everywhere).
import type { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/ir.js';
import * as op from '../graph/ops/index.js';
import type { LoraAdapter } from './lora.js';

/** Added to a masked token's attention score: exp(−1e4) is 0 in float32 and float16 alike. */
const MASKED = -1e4;

/** Graph input names of the regional conditioning (the sampler feeds them). */
export const regionMaskInput = (n: number) => `region_mask_${n}`;
export const REGION_TOKENS_INPUT = 'region_tokens';

/**
 * The regional concepts of one UNet graph: their adapter labels (columns, in order), their masks at
 * each sequence length N = H·W of a UNet level (graph inputs [1, N, C], 1 inside), and which prompt
 * tokens each owns ([B, C, 77], 1 where token j of batch row b is concept c's).
 */
export class Regions {
  private readonly masks = new Map<number, Tensor>();
  private readonly columns = new Map<string, Tensor>();
  private readonly biases = new Map<number, Tensor>();
  readonly tokens: Tensor;

  constructor(
    private readonly graph: Graph,
    readonly labels: readonly string[],
    batch: number,
    tokenCount = 77,
  ) {
    this.tokens = graph.unscoped(() => graph.input(REGION_TOKENS_INPUT, 'float32', [batch, labels.length, tokenCount]));
  }

  /** [1, N, C] masks for sequence length N (made an input the first time a level asks). */
  maskAt(n: number): Tensor {
    let m = this.masks.get(n);
    if (!m) {
      m = this.graph.unscoped(() => this.graph.input(regionMaskInput(n), 'float32', [1, n, this.labels.length]));
      this.masks.set(n, m);
    }
    return m;
  }

  /** [1, N, 1]: concept `label`'s region at sequence length N. */
  column(label: string, n: number): Tensor {
    const key = `${label}@${n}`;
    let c = this.columns.get(key);
    if (!c) {
      const i = this.labels.indexOf(label);
      c = this.graph.unscoped(() => op.slice(this.maskAt(n), 2, i, i + 1));
      this.columns.set(key, c);
    }
    return c;
  }

  /** [B, 1, N, T] score bias: MASKED where a token belongs to a concept whose region does not hold the pixel. */
  bias(n: number): Tensor {
    let b = this.biases.get(n);
    if (!b) {
      const [batch, , tokens] = this.tokens.shape as [number, number, number];
      b = this.graph.unscoped(() => {
        const outside = op.sub(1, this.maskAt(n)); // [1, N, C]
        return op.reshape(op.mul(op.matmul(outside, this.tokens), MASKED), [batch, 1, n, tokens]);
      });
      this.biases.set(n, b);
    }
    return b;
  }

  /** The adapters with each regional concept's delta gated by its region (others act everywhere). */
  gate(adapters: readonly LoraAdapter[]): LoraAdapter[] {
    return adapters.map((a) => (this.labels.includes(a.label) ? regionalAdapter(a, this) : a));
  }
}

/** Cross-attention's key/value projections: their regional deltas go through `regionalAttention`, not the gate. */
export const TEXT_SIDE_PROJECTION = /\.attn2\.(to_k|to_v)$/;

function regionalAdapter(a: LoraAdapter, regions: Regions): LoraAdapter {
  return {
    label: a.label,
    scale: a.scale,
    region: a.label,
    targets: (module) => a.targets(module),
    weights: (graph, module, inDim, outDim, kernel) => a.weights(graph, module, inDim, outDim, kernel),
    // target: tokens [B, N, C] or an image [B, C, H, W] on the spatial stream; cross-attention's text side is
    // handled in the attention; the time embedding (one vector, [B, C]) acts everywhere: it has no pixels to gate
    gate: (module, target) => {
      if (TEXT_SIDE_PROJECTION.test(module)) return null;
      if (target.shape.length === 3) return regions.column(a.label, target.shape[1]!);
      if (target.shape.length !== 4) return null;
      const [, , h, w] = target.shape as [number, number, number, number];
      return op.reshape(regions.column(a.label, h * w), [1, 1, h, w]);
    },
  };
}

export interface RegionalDelta {
  /** [1, 1, N, 1]: where this concept acts. */
  gate: Tensor;
  /** Its LoRA deltas on the keys and values, [B, heads, T, d]. */
  dk: Tensor;
  dv: Tensor;
}

/**
 * Attention of q [B, h, N, d] over keys and values k0, v0 [B, h, T, d] (without the regional concepts'
 * deltas), each regional delta added only where its gate is 1, plus the token bias [B, 1, N, T].
 * Returns the output and the attention weights (for tests and for inspecting a composition).
 */
export function regionalAttention(q: Tensor, k0: Tensor, v0: Tensor, deltas: readonly RegionalDelta[], bias: Tensor): { out: Tensor; probs: Tensor } {
  const scale = 1 / Math.sqrt(q.shape[q.shape.length - 1]!);
  // float16 inputs are added up in float32 unless the graph asks otherwise (as nn.attention), the softmax always
  const dt = q.dtype === 'float16' && q.graph.halfAccumulation === 'float32' ? 'float32' : q.dtype;
  const cast = (t: Tensor, to: Tensor['dtype'] = dt) => (t.dtype === to ? t : op.cast(t, to));
  const [q0, k, v] = [cast(q), cast(k0), cast(v0)];
  let scores = op.matmul(q0, op.transposeLast2(k));
  for (const d of deltas) scores = op.add(scores, op.mul(cast(d.gate), op.matmul(q0, op.transposeLast2(cast(d.dk)))));
  scores = op.add(op.mul(scores, scale), cast(bias));
  const probs = cast(op.softmax(cast(scores, 'float32'), -1));
  let out = op.matmul(probs, v);
  for (const d of deltas) out = op.add(out, op.mul(cast(d.gate), op.matmul(probs, cast(d.dv))));
  return { out: cast(out, q.dtype), probs };
}
