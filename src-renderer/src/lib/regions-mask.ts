// The concepts' regions drawn as one mask (opaque inside any of them), for "redraw inside the regions": the
// inpainting mask of "put * dog here" on a start image. Boxes are fractions of the canvas, painted regions PNGs.
import { boxInPixels, type RegionBox } from '../../../src-preload/contract/index.js';

export type MaskShape = { box: RegionBox } | { paint: string };

const loaded = (src: string) =>
  new Promise<HTMLImageElement>((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('a painted region did not load'));
    img.src = src;
  });

/** A PNG data URL of the union of `shapes` at width × height, or null when there are none. */
export async function regionsMaskPng(shapes: readonly MaskShape[], width: number, height: number): Promise<string | null> {
  if (shapes.length === 0) return null;
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  for (const shape of shapes) {
    if ('box' in shape) {
      const [x0, y0, x1, y1] = boxInPixels(shape.box, width, height);
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    } else ctx.drawImage(await loaded(shape.paint), 0, 0, width, height);
  }
  return canvas.toDataURL('image/png');
}

/** An image's natural size, read by loading it. */
export async function imageSize(src: string): Promise<{ width: number; height: number }> {
  const img = await loaded(src);
  return { width: img.naturalWidth, height: img.naturalHeight };
}
