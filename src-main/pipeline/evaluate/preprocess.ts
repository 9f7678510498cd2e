// The report card's view of an image for an embedding network: the masked part (image × mask, the rest black),
// resized so its shortest side is `shortest` with antialiased bicubic (PIL's filter, a = −0.5, as torch's
// interpolate(antialias=True) and CLIP's processor use), centre-cropped square, normalised per channel.
// Planar float32 throughout: [3, H, W] in [0, 1].

export interface PlanarImage {
  width: number;
  height: number;
  /** Channel-planar values, channels × height × width. */
  data: Float32Array;
  channels: number;
}

export interface ViewSpec {
  shortest: number;
  crop: number;
  mean: readonly number[];
  std: readonly number[];
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** PIL's bicubic kernel (a = −0.5). */
function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Per output index: the first input index and normalised weights, for resizing `inSize` → `outSize`. */
function resampleWeights(inSize: number, outSize: number): Array<{ start: number; weights: Float64Array }> {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1); // downsampling widens the kernel: the antialiasing
  const support = 2 * stretch;
  return Array.from({ length: outSize }, (_, i) => {
    const centre = scale * (i + 0.5);
    const start = Math.max(Math.trunc(centre - support + 0.5), 0);
    const end = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const weights = new Float64Array(end - start);
    let total = 0;
    for (let j = 0; j < weights.length; j++) total += weights[j] = cubic((j + start - centre + 0.5) / stretch);
    if (total !== 0) for (let j = 0; j < weights.length; j++) weights[j]! /= total;
    return { start, weights };
  });
}

/** Separable antialiased bicubic resize (rows first, then columns, as torch does). */
export function resizeBicubic(image: PlanarImage, width: number, height: number): PlanarImage {
  const { channels, width: w0, height: h0, data } = image;
  const across = resampleWeights(w0, width);
  const down = resampleWeights(h0, height);
  const wide = new Float32Array(channels * h0 * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < h0; y++) {
      const row = (c * h0 + y) * w0;
      for (let x = 0; x < width; x++) {
        const { start, weights } = across[x]!;
        let v = 0;
        for (let j = 0; j < weights.length; j++) v += weights[j]! * data[row + start + j]!;
        wide[(c * h0 + y) * width + x] = v;
      }
    }
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) {
      const { start, weights } = down[y]!;
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (let j = 0; j < weights.length; j++) v += weights[j]! * wide[(c * h0 + start + j) * width + x]!;
        out[(c * height + y) * width + x] = v;
      }
    }
  return { channels, width, height, data: out };
}

/** image × mask (mask [1, H, W] in [0, 1], or its complement with `invert`). */
export function applyMask(image: PlanarImage, mask: PlanarImage, invert = false): PlanarImage {
  if (mask.width !== image.width || mask.height !== image.height || mask.channels !== 1) {
    throw new Error(`mask ${mask.width}×${mask.height}×${mask.channels} does not fit image ${image.width}×${image.height}`);
  }
  const plane = image.width * image.height;
  const data = new Float32Array(image.data.length);
  for (let c = 0; c < image.channels; c++)
    for (let i = 0; i < plane; i++) {
      const m = mask.data[i]!;
      data[c * plane + i] = image.data[c * plane + i]! * (invert ? 1 - m : m);
    }
  return { ...image, data };
}

/** The network's input [3, crop, crop]: masked, resized by the shortest side (long side truncated, as HF does), cropped, normalised. */
export function metricView(image: PlanarImage, mask: PlanarImage | null, spec: ViewSpec, invert = false): Float32Array {
  const masked = mask ? applyMask(image, mask, invert) : image;
  const { width: w, height: h } = masked;
  const [rw, rh] = h <= w ? [Math.trunc((w * spec.shortest) / h), spec.shortest] : [spec.shortest, Math.trunc((h * spec.shortest) / w)];
  const resized = resizeBicubic(masked, rw, rh);
  const top = Math.trunc((rh - spec.crop) / 2);
  const left = Math.trunc((rw - spec.crop) / 2);
  const out = new Float32Array(3 * spec.crop * spec.crop);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < spec.crop; y++)
      for (let x = 0; x < spec.crop; x++) {
        const v = resized.data[(c * rh + top + y) * rw + left + x]!;
        out[(c * spec.crop + y) * spec.crop + x] = (v - spec.mean[c]!) / spec.std[c]!;
      }
  return out;
}
