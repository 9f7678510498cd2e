// Regions → the masks the UNet reads: coverage of latent cells, each level's grid, overlaps, and the
// tokens each concept owns in the prompt half of the guidance batch only.
import { describe, expect, it } from 'vitest';
import { latentCoverage, levelMask, overlapNote, regionFeeds } from '../../../src-main/pipeline/compose/regions.js';
import { latentPreview } from '../../../src-main/pipeline/compose/latent-preview.js';
import sharp from 'sharp';

describe('regions', () => {
  it('measures how much of each latent cell a box covers, and refuses boxes off the canvas', () => {
    // a 32×32 image, 8-pixel latents → a 4×4 grid; the box covers column 0 fully and half of column 1
    const cover = latentCoverage({ placeholder: '*', box: [0, 0, 12, 32] }, 32, 32, 8);
    expect(Array.from(cover.slice(0, 4))).toEqual([1, 0.5, 0, 0]);
    expect(() => latentCoverage({ placeholder: '*2', box: [40, 0, 50, 8] }, 32, 32, 8)).toThrow(/region of \*2 \(40, 0, 50, 8\) lies outside the 32×32 canvas/);
    expect(() => latentCoverage({ placeholder: '*', box: [5, 5, 5, 9] }, 32, 32, 8)).toThrow(/is empty/);
    // a painted mask of the same pixels covers the same cells
    const data = new Uint8Array(32 * 32);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 12; x++) data[y * 32 + x] = 255;
    expect(Array.from(latentCoverage({ placeholder: '*', mask: { width: 32, height: 32, data } }, 32, 32, 8))).toEqual(Array.from(cover));
  });

  it('keeps cells at least half covered at each level, and never loses a small region', () => {
    const cover = new Float32Array(16);
    cover[0] = 1; // one cell of a 4×4 grid
    expect(Array.from(levelMask(cover, 4, 4, 0))).toEqual([1, ...new Array(15).fill(0)]);
    // at 2×2 that cell is a quarter of the top-left cell: below half, but the best there is
    expect(Array.from(levelMask(cover, 4, 4, 1))).toEqual([1, 0, 0, 0]);
    const half = new Float32Array(16).map((_, i) => (i % 4 < 2 ? 1 : 0));
    expect(Array.from(levelMask(half, 4, 4, 1))).toEqual([1, 0, 1, 0]);
  });

  it('says how overlapping regions mix, and feeds masks per level and token ownership to the prompt rows only', () => {
    const a = new Float32Array([1, 1, 0, 0]);
    const b = new Float32Array([0, 1, 1, 0]);
    expect(overlapNote('*', a, '*2', b)).toMatch(/overlap \(25 % of the image\): there both act/);
    expect(overlapNote('*', a, '*2', new Float32Array([0, 0, 1, 1]))).toBeNull();
    const feeds = regionFeeds([a, b], [[2, 3], [5]], 2, 2, 2, 4);
    expect(feeds.region_mask_4!.shape).toEqual([1, 4, 2]);
    expect(Array.from(feeds.region_mask_4!.data as Float32Array)).toEqual([1, 0, 1, 1, 0, 1, 0, 0]);
    expect(feeds.region_mask_1!.shape).toEqual([1, 1, 2]);
    const tokens = feeds.region_tokens!.data as Float32Array;
    const at = (row: number, c: number, t: number) => tokens[(row * 2 + c) * 77 + t];
    expect([at(0, 0, 2), at(1, 1, 5)]).toEqual([0, 0]); // the unconditional rows own nothing
    expect([at(2, 0, 2), at(2, 0, 3), at(3, 1, 5), at(3, 0, 5)]).toEqual([1, 1, 1, 0]);
  });

  it('previews latents with the linear SD 1.x colour fit', async () => {
    // channel 0 alone: its row of factors, (v + 1) / 2 as 8-bit
    const lat = new Float32Array(4 * 4);
    lat.fill(1, 0, 4);
    const { data, info } = await sharp(await latentPreview(lat, 2, 2))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([2, 2, 3]);
    expect(Array.from(data.subarray(0, 3))).toEqual([0.3512, 0.2297, 0.3227].map((v) => Math.round(((v + 1) / 2) * 255)));
  });
});
