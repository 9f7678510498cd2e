// A cheap look at latents while they denoise: each latent pixel's 4 channels times a fixed 4×3 matrix
// gives its colour, with no VAE. The factors are the community's published linear fit for SD 1.x
// latents (the "approx cheap" preview in A1111 and ComfyUI's SD15 latent format).
import sharp from 'sharp';

const SD1_LATENT_RGB: ReadonlyArray<readonly [number, number, number]> = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** Latents [4, h, w] of one image → a small PNG (h×w pixels; the screen scales it up). */
export async function latentPreview(latents: Float32Array, h: number, w: number): Promise<Buffer> {
  const plane = h * w;
  const rgb = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += latents[k * plane + i]! * SD1_LATENT_RGB[k]![c]!;
      rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
  }
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}
