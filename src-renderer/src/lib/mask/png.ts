// Masks in and out of PNG in the browser (decoded through a canvas; the red channel is the value).

export async function maskFromBlob(blob: Blob): Promise<{ mask: Uint8Array; width: number; height: number }> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const mask = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < mask.length; i++) mask[i] = rgba[i * 4]!;
  return { mask, width: bitmap.width, height: bitmap.height };
}

export function maskFromBase64Png(b64: string) {
  return maskFromBlob(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' }));
}

export async function maskFromUrl(url: string) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not load the saved mask (${res.status}).`);
  return maskFromBlob(await res.blob());
}

export async function maskToBase64Png(mask: Uint8Array, width: number, height: number): Promise<string> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < mask.length; i++) {
    image.data[i * 4] = image.data[i * 4 + 1] = image.data[i * 4 + 2] = mask[i]!;
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
