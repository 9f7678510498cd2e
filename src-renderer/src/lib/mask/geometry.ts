// Pure operations on 8-bit masks (row-major, 0…255), used by the mask editor's tools.
// No DOM here, so they are unit-tested directly.
import type { Box } from '../../../../src-preload/contract/masks.js';

export interface MaskSize {
  width: number;
  height: number;
}

/**
 * Paints one round brush dab at (cx, cy). `hardness` 1 is a hard edge; lower values fade over
 * the outer part of the radius. The brush raises values (max), the eraser lowers them (min).
 * Returns the rectangle it touched.
 */
export function stamp(mask: Uint8Array, size: MaskSize, cx: number, cy: number, radius: number, hardness: number, erase: boolean): Box {
  const r = Math.max(0.5, radius);
  const solid = r * Math.min(1, Math.max(0, hardness));
  const x0 = Math.max(0, Math.floor(cx - r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const x1 = Math.min(size.width - 1, Math.ceil(cx + r));
  const y1 = Math.min(size.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d > r) continue;
      const a = d <= solid ? 1 : 1 - (d - solid) / (r - solid);
      const i = y * size.width + x;
      const v = Math.round(a * 255);
      mask[i] = erase ? Math.min(mask[i]!, 255 - v) : Math.max(mask[i]!, v);
    }
  }
  return { x0, y0, x1, y1 };
}

/** Dabs along a segment, close enough that the stroke has no gaps. */
export function strokeSegment(
  mask: Uint8Array,
  size: MaskSize,
  from: [number, number],
  to: [number, number],
  radius: number,
  hardness: number,
  erase: boolean,
): Box {
  const steps = Math.max(1, Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) / Math.max(1, radius / 4)));
  let dirty: Box | null = null;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const r = stamp(mask, size, from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, radius, hardness, erase);
    dirty = dirty ? union(dirty, r) : r;
  }
  return dirty!;
}

export const union = (a: Box, b: Box): Box => ({ x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) });

const on = (v: number) => v > 127;

/** Fills background regions that do not touch the image border (holes inside the subject). */
export function fillHoles(mask: Uint8Array, size: MaskSize): Uint8Array {
  const { width: w, height: h } = size;
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (!outside[i] && !on(mask[i]!)) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % w;
    if (x > 0) seed(i - 1);
    if (x < w - 1) seed(i + 1);
    if (i >= w) seed(i - w);
    if (i < w * (h - 1)) seed(i + w);
  }
  return mask.map((v, i) => (outside[i] ? v : 255));
}

/** Removes foreground islands (4-connected) smaller than `minArea` pixels. */
export function removeSmallIslands(mask: Uint8Array, size: MaskSize, minArea: number): Uint8Array {
  const { width: w, height: h } = size;
  const label = new Int32Array(w * h).fill(-1);
  const out = Uint8Array.from(mask);
  const component: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (label[start] !== -1 || !on(mask[start]!)) continue;
    component.length = 0;
    const stack = [start];
    label[start] = start;
    while (stack.length) {
      const i = stack.pop()!;
      component.push(i);
      const x = i % w;
      for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
        if (j >= 0 && j < w * h && label[j] === -1 && on(mask[j]!)) {
          label[j] = start;
          stack.push(j);
        }
      }
    }
    if (component.length < minArea) for (const i of component) out[i] = 0;
  }
  return out;
}

/** Exact squared Euclidean distance to the nearest pixel where `target` holds (Felzenszwalb–Huttenlocher). */
export function squaredDistanceTo(target: (i: number) => boolean, size: MaskSize): Float64Array {
  const { width: w, height: h } = size;
  const INF = 1e20;
  const d = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) d[i] = target(i) ? 0 : INF;
  const f = new Float64Array(Math.max(w, h));
  const out = new Float64Array(Math.max(w, h));
  const v = new Int32Array(Math.max(w, h));
  const z = new Float64Array(Math.max(w, h) + 1);
  const pass = (n: number, get: (k: number) => number, set: (k: number, value: number) => void) => {
    for (let k = 0; k < n; k++) f[k] = get(k);
    let j = 0;
    v[0] = 0;
    z[0] = -Infinity;
    z[1] = Infinity;
    for (let q = 1; q < n; q++) {
      let s = (f[q]! + q * q - (f[v[j]!]! + v[j]! * v[j]!)) / (2 * q - 2 * v[j]!);
      while (s <= z[j]!) {
        j--;
        s = (f[q]! + q * q - (f[v[j]!]! + v[j]! * v[j]!)) / (2 * q - 2 * v[j]!);
      }
      j++;
      v[j] = q;
      z[j] = s;
      z[j + 1] = Infinity;
    }
    j = 0;
    for (let q = 0; q < n; q++) {
      while (z[j + 1]! < q) j++;
      out[q] = (q - v[j]!) ** 2 + f[v[j]!]!;
    }
    for (let k = 0; k < n; k++) set(k, out[k]!);
  };
  for (let x = 0; x < w; x++)
    pass(
      h,
      (y) => d[y * w + x]!,
      (y, value) => (d[y * w + x] = value),
    );
  for (let y = 0; y < h; y++)
    pass(
      w,
      (x) => d[y * w + x]!,
      (x, value) => (d[y * w + x] = value),
    );
  return d;
}

/** Grows the mask by `px` pixels (a disk). */
export function grow(mask: Uint8Array, size: MaskSize, px: number): Uint8Array {
  const d = squaredDistanceTo((i) => on(mask[i]!), size);
  return mask.map((_, i) => (d[i]! <= px * px ? 255 : 0));
}

/** Shrinks the mask by `px` pixels (a disk). */
export function shrink(mask: Uint8Array, size: MaskSize, px: number): Uint8Array {
  const d = squaredDistanceTo((i) => !on(mask[i]!), size);
  return mask.map((_, i) => (d[i]! > px * px ? 255 : 0));
}

/** Softens the edge over about `px` pixels (three box blurs ≈ a Gaussian). */
export function feather(mask: Uint8Array, size: MaskSize, px: number): Uint8Array {
  const { width: w, height: h } = size;
  const r = Math.max(1, Math.round(px / 3));
  let a = Float32Array.from(mask);
  let b = new Float32Array(w * h);
  const blur = (horizontal: boolean) => {
    const [n, m] = horizontal ? [w, h] : [h, w];
    for (let line = 0; line < m; line++) {
      const at = (k: number) => (horizontal ? line * w + k : k * w + line);
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += a[at(Math.min(n - 1, Math.max(0, k)))]!;
      for (let k = 0; k < n; k++) {
        b[at(k)] = sum / (2 * r + 1);
        sum += a[at(Math.min(n - 1, k + r + 1))]! - a[at(Math.max(0, k - r))]!;
      }
    }
    [a, b] = [b, a];
  };
  for (let i = 0; i < 3; i++) {
    blur(true);
    blur(false);
  }
  return Uint8Array.from(a, (v) => Math.round(v));
}

export function coverage(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) if (on(v)) n++;
  return mask.length ? n / mask.length : 0;
}
