import type { Box, SamPoint } from '../../../src-preload/contract/masks.js';
// SAM's standard pre- and post-processing: longest side to 1024, pad bottom-right, ImageNet
// mean/std in 0–255 units, prompts moved into the resized frame, logits thresholded at 0.

export const SAM_SIZE = 1024;
const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];

/** The size an image gets when its longest side becomes `target` (SAM rounds half up). */
export function resizeLongestSide(width: number, height: number, target = SAM_SIZE): { width: number; height: number } {
  const scale = target / Math.max(width, height);
  return { width: Math.floor(width * scale + 0.5), height: Math.floor(height * scale + 0.5) };
}

/** A point of the original image in the resized (1024) frame. */
export function toSamCoords(x: number, y: number, width: number, height: number): [number, number] {
  const resized = resizeLongestSide(width, height);
  return [x * (resized.width / width), y * (resized.height / height)];
}

/** RGB bytes (HWC) of the resized image → the encoder's [1, 3, 1024, 1024] input, zero-padded after normalising. */
export function samInputTensor(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = SAM_SIZE * SAM_SIZE;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = y * SAM_SIZE + x;
      for (let c = 0; c < 3; c++) out[c * plane + dst] = (rgb[src + c]! - MEAN[c]!) / STD[c]!;
    }
  }
  return out;
}

/**
 * Prompt tensors for the decoder: points (labels 1/0), a box as two corners (labels 2, 3),
 * and SAM's padding point (label −1) when there is no box.
 */
export function promptTensors(points: readonly SamPoint[], box: Box | null, width: number, height: number): { coords: Float32Array; labels: Float32Array } {
  const coords: number[] = [];
  const labels: number[] = [];
  for (const p of points) {
    coords.push(...toSamCoords(p.x, p.y, width, height));
    labels.push(p.positive ? 1 : 0);
  }
  if (box) {
    coords.push(...toSamCoords(box.x0, box.y0, width, height), ...toSamCoords(box.x1, box.y1, width, height));
    labels.push(2, 3);
  } else {
    coords.push(0, 0);
    labels.push(-1);
  }
  return { coords: Float32Array.from(coords), labels: Float32Array.from(labels) };
}

/** Mask logits → 8-bit mask (255 inside, 0 outside). */
export function thresholdMask(logits: Float32Array, threshold = 0): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! > threshold ? 255 : 0;
  return out;
}
