// Building blocks shared by the SD models, with diffusers' weight names.
import type { Tensor } from '../graph/ir.js';
import { accumulated, attention, groupNorm, layerNorm, linear, quickGelu, silu } from '../graph/nn.js';
import * as op from '../graph/ops/index.js';
import { type LoraAdapter, loraConvDelta, loraDelta } from './lora.js';
import { type ParamFactory, withAdapters } from './params.js';
import { type Regions, regionalAttention } from './regional.js';

export function linearLayer(p: ParamFactory, name: string, x: Tensor, inDim: number, outDim: number, bias = true): Tensor {
  const g = x.graph;
  const y = g.scope(name, () => linear(x, p.weight('weight', [outDim, inDim]), bias ? p.weight('bias', [outDim]) : null));
  // adapters run in float32 whatever the base model's type
  const delta = p.adapters?.length ? loraDelta(p.adapters, g.scopedName(name), op.cast(x, 'float32'), inDim, outDim) : null;
  return delta ? op.add(y, op.cast(delta, y.dtype)) : y;
}

export function conv(
  p: ParamFactory,
  name: string,
  x: Tensor,
  inCh: number,
  outCh: number,
  kernel: number,
  options: { stride?: number; padding?: number; bias?: boolean } = {},
): Tensor {
  const g = x.graph;
  const { bias = true, ...geometry } = options;
  const y = g.scope(name, () =>
    accumulated(x, (x, [w, b]) => op.conv2d(x, w!, b ?? null, geometry), [
      p.weight('weight', [outCh, inCh, kernel, kernel]),
      ...(bias ? [p.weight('bias', [outCh])] : []),
    ]),
  );
  const delta = p.adapters?.length ? loraConvDelta(p.adapters, g.scopedName(name), op.cast(x, 'float32'), inCh, outCh, kernel, geometry) : null;
  return delta ? op.add(y, op.cast(delta, y.dtype)) : y;
}

export function groupNormLayer(p: ParamFactory, name: string, x: Tensor, groups: number, eps: number): Tensor {
  const c = x.shape[1]!;
  return x.graph.scope(name, () => groupNorm(x, groups, p.weight('weight', [c]), p.weight('bias', [c]), eps));
}

export function layerNormLayer(p: ParamFactory, name: string, x: Tensor, eps = 1e-5): Tensor {
  const c = x.shape[x.shape.length - 1]!;
  return x.graph.scope(name, () => layerNorm(x, p.weight('weight', [c]), p.weight('bias', [c]), eps));
}

/** [B, N, heads·d] → [B, heads, N, d] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, n, c] = x.shape as [number, number, number];
  return op.transpose(op.reshape(x, [b, n, heads, c / heads]), [0, 2, 1, 3]);
}

/** [B, heads, N, d] → [B, N, heads·d] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, n, d] = x.shape as [number, number, number, number];
  return op.reshape(op.transpose(x, [0, 2, 1, 3]), [b, n, h * d]);
}

/** The model's attention: the context's implementation if it brings one (a memory-efficient kernel), else nn's. */
export const attend = (p: ParamFactory, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null = null): Tensor => (p.attention ?? attention)(q, k, v, mask);

/**
 * diffusers' Attention (to_q/to_k/to_v without bias, to_out.0 with bias); context = null for self-attention.
 * With `regions`, cross-attention confines each regional concept to its region (models/regional.ts).
 */
export function crossAttention(p: ParamFactory, name: string, x: Tensor, context: Tensor | null, heads: number, regions: Regions | null = null): Tensor {
  const g = x.graph;
  const dim = x.shape[2]!;
  const ctx = context ?? x;
  const ctxDim = ctx.shape[2]!;
  return g.scope(name, () => {
    const q = splitHeads(linearLayer(p, 'to_q', x, dim, dim, false), heads);
    if (regions && context) {
      // keys and values without the regional concepts' deltas; those come in per region
      const everywhere = withAdapters(
        p,
        (p.adapters ?? []).filter((a) => a.region === undefined),
      );
      const k0 = splitHeads(linearLayer(everywhere, 'to_k', ctx, ctxDim, dim, false), heads);
      const v0 = splitHeads(linearLayer(everywhere, 'to_v', ctx, ctxDim, dim, false), heads);
      const n = x.shape[1]!;
      const deltas = (p.adapters ?? [])
        .filter((a) => a.region !== undefined && a.targets(g.scopedName('to_k')))
        .map((a) => {
          const delta = (proj: string) => splitHeads(loraDelta([bare(a)], g.scopedName(proj), op.cast(ctx, 'float32'), ctxDim, dim)!, heads);
          return { gate: op.reshape(regions.column(a.region!, n), [1, 1, n, 1]), dk: delta('to_k'), dv: delta('to_v') };
        });
      return linearLayer(p, 'to_out.0', mergeHeads(regionalAttention(q, k0, v0, deltas, regions.bias(n)).out), dim, dim);
    }
    const k = splitHeads(linearLayer(p, 'to_k', ctx, ctxDim, dim, false), heads);
    const v = splitHeads(linearLayer(p, 'to_v', ctx, ctxDim, dim, false), heads);
    return linearLayer(p, 'to_out.0', mergeHeads(attend(p, q, k, v)), dim, dim);
  });
}

/** An adapter without its gate (its delta as it is; the caller places it). */
const bare = (a: LoraAdapter): LoraAdapter => ({
  label: a.label,
  scale: a.scale,
  targets: (m) => a.targets(m),
  weights: (gr, m, i, o, k) => a.weights(gr, m, i, o, k),
});

/** diffusers' ResnetBlock2D; `temb` is optional (the VAE has none). */
export function resnetBlock(p: ParamFactory, name: string, x: Tensor, temb: Tensor | null, outCh: number, groups: number, eps: number): Tensor {
  const g = x.graph;
  const inCh = x.shape[1]!;
  return g.scope(name, () => {
    let h = conv(p, 'conv1', silu(groupNormLayer(p, 'norm1', x, groups, eps)), inCh, outCh, 3, { padding: 1 });
    if (temb) h = op.add(h, timeProjection(p, silu(temb), h));
    h = conv(p, 'conv2', silu(groupNormLayer(p, 'norm2', h, groups, eps)), outCh, outCh, 3, { padding: 1 });
    const shortcut = inCh === outCh ? x : conv(p, 'conv_shortcut', x, inCh, outCh, 1);
    return op.add(shortcut, h);
  });
}

/**
 * The time embedding projected to h's channels, [B, C, 1, 1]; a regional concept's delta on it is one vector
 * for the whole image, so it is spread over its region instead ([B, C, H, W]).
 */
function timeProjection(p: ParamFactory, temb: Tensor, h: Tensor): Tensor {
  const g = h.graph;
  const [b, outCh] = h.shape as [number, number];
  const inDim = temb.shape[1]!;
  const adapters = p.adapters ?? [];
  const regional = adapters.filter((a) => a.region !== undefined);
  const base = linearLayer(
    regional.length
      ? withAdapters(
          p,
          adapters.filter((a) => a.region === undefined),
        )
      : p,
    'time_emb_proj',
    temb,
    inDim,
    outCh,
  );
  let t = op.reshape(base, [b, outCh, 1, 1]);
  const module = g.scopedName('time_emb_proj');
  for (const a of regional) {
    const delta = loraDelta([bare(a)], module, op.cast(temb, 'float32'), inDim, outCh);
    if (!delta) continue;
    const gate = a.gate?.(module, h);
    const spread = op.reshape(op.cast(delta, t.dtype), [b, outCh, 1, 1]);
    t = op.add(t, gate ? op.mul(spread, op.cast(gate, t.dtype)) : spread);
  }
  return t;
}

/** CLIP's transformer stack (text and vision towers alike): pre-norm attention + quick-GELU MLP, `encoder.layers.N`. */
/** The transformer stack's settings, the same for CLIP's text and vision towers. */
export interface ClipEncoderConfig {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  eps: number;
}

export function clipEncoder(p: ParamFactory, h: Tensor, cfg: ClipEncoderConfig, mask: Tensor | null): Tensor {
  const g = h.graph;
  const d = h.shape[h.shape.length - 1]!;
  for (let i = 0; i < cfg.layers; i++) {
    g.checkpoint();
    h = g.scope(`encoder.layers.${i}`, () => {
      const normed = layerNormLayer(p, 'layer_norm1', h, cfg.eps);
      const attn = g.scope('self_attn', () => {
        const q = splitHeads(linearLayer(p, 'q_proj', normed, d, d), cfg.heads);
        const k = splitHeads(linearLayer(p, 'k_proj', normed, d, d), cfg.heads);
        const v = splitHeads(linearLayer(p, 'v_proj', normed, d, d), cfg.heads);
        return linearLayer(p, 'out_proj', mergeHeads(attend(p, q, k, v, mask)), d, d);
      });
      const x = op.add(h, attn);
      const normed2 = layerNormLayer(p, 'layer_norm2', x, cfg.eps);
      return op.add(
        x,
        g.scope('mlp', () => linearLayer(p, 'fc2', quickGelu(linearLayer(p, 'fc1', normed2, d, cfg.intermediateSize)), cfg.intermediateSize, d)),
      );
    });
  }
  g.checkpoint();
  return h;
}
