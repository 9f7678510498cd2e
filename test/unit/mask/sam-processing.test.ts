import { describe, expect, it } from 'vitest';
import { promptTensors, resizeLongestSide, samInputTensor, thresholdMask, toSamCoords } from '../../../src-main/pipeline/mask/sam-processing.js';
import { detectorInputSize } from '../../../src-main/pipeline/mask/grounding-dino.js';

describe('SAM pre- and post-processing', () => {
  it('resizes the longest side to 1024, rounding half up like SAM', () => {
    expect(resizeLongestSide(780, 780)).toEqual({ width: 1024, height: 1024 });
    expect(resizeLongestSide(451, 300)).toEqual({ width: 1024, height: 681 }); // 300·1024/451 = 681.15
    expect(resizeLongestSide(300, 451)).toEqual({ width: 681, height: 1024 });
    expect(resizeLongestSide(2000, 1001)).toEqual({ width: 1024, height: 513 }); // 512.512 → 513
  });

  it('moves prompt coordinates into the resized frame', () => {
    expect(toSamCoords(390, 390, 780, 780)).toEqual([512, 512]);
    const [x, y] = toSamCoords(451, 300, 451, 300);
    expect(x).toBeCloseTo(1024, 10);
    expect(y).toBeCloseTo(681, 10);
  });

  it('normalises with ImageNet mean/std in 0–255 units and pads with zeros after', () => {
    const rgb = Uint8Array.from([255, 0, 128, 10, 20, 30]); // 2×1 image
    const t = samInputTensor(rgb, 2, 1);
    const plane = 1024 * 1024;
    expect(t[0]).toBeCloseTo((255 - 123.675) / 58.395, 5);
    expect(t[plane]).toBeCloseTo((0 - 116.28) / 57.12, 5);
    expect(t[2 * plane + 1]).toBeCloseTo((30 - 103.53) / 57.375, 5);
    expect(t[2]).toBe(0); // padding right of the image
    expect(t[1024]).toBe(0); // padding below
  });

  it('encodes points, a box as two corners, and the padding point', () => {
    const onlyPoints = promptTensors(
      [
        { x: 100, y: 50, positive: true },
        { x: 10, y: 10, positive: false },
      ],
      null,
      200,
      100,
    );
    [512, 256, 51.2, 51.2, 0, 0].forEach((v, i) => expect(onlyPoints.coords[i]).toBeCloseTo(v, 4));
    expect(Array.from(onlyPoints.labels)).toEqual([1, 0, -1]);
    const withBox = promptTensors([], { x0: 0, y0: 0, x1: 200, y1: 100 }, 200, 100);
    expect(Array.from(withBox.coords)).toEqual([0, 0, 1024, 512]);
    expect(Array.from(withBox.labels)).toEqual([2, 3]);
  });

  it('thresholds logits at zero', () => {
    expect(Array.from(thresholdMask(Float32Array.from([-3, 0, 0.01, 7])))).toEqual([0, 0, 255, 255]);
  });

  it('sizes detector input like Hugging Face (shortest 800, longest ≤ 1333)', () => {
    expect(detectorInputSize(780, 780, 800, 1333)).toEqual({ width: 800, height: 800 });
    // 1333·500/1000 = 666.5 rounds to even (666); the long side truncates: 666·2 = 1332
    expect(detectorInputSize(1000, 500, 800, 1333)).toEqual({ width: 1332, height: 666 });
    expect(detectorInputSize(451, 300, 800, 1333)).toEqual({ width: 1202, height: 800 });
  });
});
