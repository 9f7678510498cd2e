import { describe, expect, it } from 'vitest';
import {
  coverage,
  feather,
  fillHoles,
  grow,
  removeSmallIslands,
  shrink,
  squaredDistanceTo,
  stamp,
  strokeSegment,
} from '../../../src-renderer/src/lib/mask/geometry.js';

const size = { width: 20, height: 20 };
const blank = () => new Uint8Array(400);
const count = (m: Uint8Array) => m.reduce((s, v) => s + (v > 127 ? 1 : 0), 0);
const square = (x0: number, y0: number, x1: number, y1: number, m = blank()) => {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * 20 + x] = 255;
  return m;
};

describe('mask geometry', () => {
  it('a hard brush dab fills a disc; the eraser clears it; a soft one fades at the edge', () => {
    const m = blank();
    const dirty = stamp(m, size, 10, 10, 3, 1, false);
    expect(dirty).toEqual({ x0: 7, y0: 7, x1: 13, y1: 13 });
    // pixel centres (x+½, y+½) within 3 of (10,10): 8 offset pairs of ½, 1½, 2½ per quadrant
    expect(count(m)).toBe(32);
    expect(m[10 * 20 + 10]).toBe(255);
    expect(m[0]).toBe(0);
    stamp(m, size, 10, 10, 3, 1, true);
    expect(count(m)).toBe(0);
    const soft = blank();
    stamp(soft, size, 10, 10, 4, 0.25, false);
    expect(soft[10 * 20 + 10]).toBe(255);
    const edge = soft[10 * 20 + 13]!;
    expect(edge).toBeGreaterThan(0);
    expect(edge).toBeLessThan(255);
  });

  it('a stroke leaves no gaps between dabs', () => {
    const m = blank();
    strokeSegment(m, size, [2, 10], [17, 10], 1.5, 1, false);
    for (let x = 2; x <= 17; x++) expect(m[10 * 20 + x], `x=${x}`).toBe(255);
  });

  it('fills holes but not background that reaches the border', () => {
    const ring = square(4, 4, 16, 16);
    for (let y = 7; y < 13; y++) for (let x = 7; x < 13; x++) ring[y * 20 + x] = 0; // hole
    const filled = fillHoles(ring, size);
    expect(count(filled)).toBe(144);
    const open = square(4, 4, 16, 16);
    for (let y = 7; y < 20; y++) open[y * 20 + 10] = 0; // a channel to the border
    expect(count(fillHoles(open, size))).toBe(count(open));
  });

  it('removes islands smaller than the area and keeps larger ones', () => {
    const m = square(1, 1, 3, 3, square(8, 8, 16, 16)); // 4 px and 64 px
    const cleaned = removeSmallIslands(m, size, 10);
    expect(count(cleaned)).toBe(64);
    expect(cleaned[1 * 20 + 1]).toBe(0);
  });

  it('computes exact Euclidean distances', () => {
    const d = squaredDistanceTo((i) => i === 0, size);
    expect(d[0]).toBe(0);
    expect(d[3 * 20 + 4]).toBe(25);
    expect(d[19 * 20 + 19]).toBe(19 * 19 * 2);
  });

  it('grows and shrinks by N pixels with a round structuring element', () => {
    const dot = square(10, 10, 11, 11);
    expect(count(grow(dot, size, 2))).toBe(13); // lattice points within distance 2
    const block = square(5, 5, 15, 15);
    expect(count(shrink(block, size, 2))).toBe(36); // 10×10 loses a 2-pixel rim
    expect(count(shrink(grow(block, size, 2), size, 2))).toBe(100);
  });

  it('feathers the edge into intermediate values and keeps the inside solid', () => {
    const block = square(4, 4, 16, 16);
    const soft = feather(block, size, 3);
    expect(soft[10 * 20 + 10]).toBe(255);
    const edge = soft[10 * 20 + 4]!;
    expect(edge).toBeGreaterThan(40);
    expect(edge).toBeLessThan(215);
    expect(coverage(block)).toBeCloseTo(0.36, 5);
  });
});
