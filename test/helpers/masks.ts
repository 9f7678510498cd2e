// Masks for tests that need a saved one: a white disc (r = a third of the width) on black, as a PNG.
import sharp from 'sharp';

export function discMaskPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000' } })
    .composite([
      { input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${width / 3}" fill="#fff"/></svg>`) },
    ])
    .png()
    .toBuffer();
}
