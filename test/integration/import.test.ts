import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { importPhotos, type PhotoInput, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { DEFAULT_INGEST_LIMITS } from '../../src-main/pipeline/ingest/normalize-photo.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { tmpDir } from '../helpers/tmp.js';

const photo = (name: string, bytes: Buffer): PhotoInput => ({ name, read: async () => bytes });

describe('importing photos (sharp, real fixtures)', () => {
  it('imports JPEG and PNG photos with their sizes and a thumbnail', async () => {
    const library = Library.open(tmpDir());
    const results = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg')), photoFromPath(fixtureImage('chelsea.png'))]);
    expect(results.map((r) => r.status)).toEqual(['imported', 'imported']);
    const [dog, cat] = results.map((r) => (r.status === 'imported' ? r.image : undefined));
    expect(dog).toMatchObject({ name: 'dog_00.jpg', sourceFormat: 'jpeg', width: 780, height: 780 });
    expect(cat).toMatchObject({ name: 'chelsea.png', sourceFormat: 'png', width: 451, height: 300 });
    const thumb = await sharp(await library.store.read(cat!.thumbSha256)).metadata();
    expect(thumb).toMatchObject({ format: 'webp', width: 384, height: 255 });
    const stored = await sharp(await library.store.read(dog!.sha256)).metadata();
    expect(stored).toMatchObject({ format: 'png', width: 780, height: 780, channels: 3 });
    library.close();
  });

  it('imports WebP and AVIF', async () => {
    const library = Library.open(tmpDir());
    const source = sharp(fixtureImage('cat_00.jpg')).resize(320);
    const webp = await source.clone().webp().toBuffer();
    const avif = await source.clone().avif().toBuffer();
    const results = await importPhotos(library, [photo('cat.webp', webp), photo('cat.avif', avif)]);
    expect(results.map((r) => r.status === 'imported' && r.image.sourceFormat)).toEqual(['webp', 'avif']);
    library.close();
  });

  it('applies EXIF orientation', async () => {
    const library = Library.open(tmpDir());
    // 300×200 pixels stored with "rotate 90° clockwise" (orientation 6): the photo is 200 wide, 300 tall
    const rotated = await sharp(fixtureImage('teapot_00.jpg')).resize(300, 200, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const [result] = await importPhotos(library, [photo('portrait.jpg', rotated)]);
    expect(result).toMatchObject({ status: 'imported', image: { width: 200, height: 300, sourceWidth: 200, sourceHeight: 300 } });
    library.close();
  });

  it('bounds very large photos to 2048 px on the long side', async () => {
    const library = Library.open(tmpDir());
    const big = await sharp({ create: { width: 4000, height: 2500, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const [result] = await importPhotos(library, [photo('big.jpg', big)]);
    expect(result).toMatchObject({ status: 'imported', image: { width: 2048, height: 1280, sourceWidth: 4000, sourceHeight: 2500 } });
    library.close();
  });

  it('refuses images over the pixel limit before decoding them, storing nothing', async () => {
    const library = Library.open(tmpDir());
    const big = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const [result] = await importPhotos(library, [photo('huge.png', big)], { limits: { ...DEFAULT_INGEST_LIMITS, maxInputPixels: 4_000_000 } });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'too-large', message: expect.stringMatching(/3000×3000/) } });
    expect(library.store.list()).toEqual([]);
    library.close();
  });

  it('refuses photos too small to learn from (a side under 64 px), saying the size', async () => {
    const library = Library.open(tmpDir());
    const strip = await sharp({ create: { width: 4000, height: 40, channels: 3, background: '#345' } })
      .png()
      .toBuffer();
    const dot = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const edge = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const results = await importPhotos(library, [photo('strip.png', strip), photo('dot.png', dot), photo('edge.png', edge)]);
    expect(results[0]).toMatchObject({
      status: 'failed',
      error: { code: 'unsupported-image', message: expect.stringMatching(/4000×40; photos need at least 64 pixels on each side/) },
    });
    expect(results[1]).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/1×1/) } });
    expect(results[2]).toMatchObject({ status: 'imported', image: { width: 64, height: 64 } });
    library.close();
  });

  it('gives corrupt, truncated and non-image files a clear error and stores nothing for them', async () => {
    const library = Library.open(tmpDir());
    const jpeg = readFileSync(fixtureImage('backpack_00.jpg'));
    const results = await importPhotos(library, [
      photo('truncated.jpg', jpeg.subarray(0, 4000)),
      photo('notes.jpg', Buffer.from('just some text, not a photo')),
      photo('empty.png', Buffer.alloc(0)),
      photo('fine.jpg', jpeg),
    ]);
    expect(results.map((r) => (r.status === 'failed' ? r.error.code : r.status))).toEqual(['corrupt-image', 'unsupported-image', 'corrupt-image', 'imported']);
    expect(results[0]!.status === 'failed' && results[0]!.error.message).toMatch(/damaged or truncated/);
    expect(library.images.list()).toHaveLength(1);
    expect(library.store.list()).toHaveLength(2);
    library.close();
  });

  it('reports a missing path and a folder clearly', async () => {
    const dir = tmpDir();
    const library = Library.open(join(dir, 'lib'));
    const results = await importPhotos(library, [photoFromPath(join(dir, 'nope.jpg')), photoFromPath(dir)]);
    expect(results.map((r) => r.status === 'failed' && r.error.message)).toEqual([
      expect.stringMatching(/No such file/),
      expect.stringMatching(/folder|not a regular file/),
    ]);
    library.close();
  });

  it('stores the same photo once, even under another name or re-encoded to the same pixels', async () => {
    const dir = tmpDir();
    const library = Library.open(join(dir, 'lib'));
    const copy = join(dir, 'copy.jpg');
    writeFileSync(copy, readFileSync(fixtureImage('dog_00.jpg')));
    // the JPEG's decoded pixels (turned upright as the import does) in a lossless PNG: other bytes, same pixels
    const reencoded = join(dir, 'reencoded.png');
    const { data, info } = await sharp(fixtureImage('dog_00.jpg')).rotate().raw().toBuffer({ resolveWithObject: true });
    await sharp(data, { raw: info }).png().toFile(reencoded);
    // and one pixel changed: another photo
    const changed = join(dir, 'changed.png');
    const edited = Buffer.from(data);
    edited[0] = edited[0]! ^ 0x40;
    await sharp(edited, { raw: info }).png().toFile(changed);
    expect(readFileSync(reencoded).equals(readFileSync(fixtureImage('dog_00.jpg')))).toBe(false);
    const results = await importPhotos(library, [
      photoFromPath(fixtureImage('dog_00.jpg')),
      photoFromPath(copy),
      photoFromPath(reencoded),
      photoFromPath(changed),
    ]);
    expect(results.map((r) => r.status)).toEqual(['imported', 'duplicate', 'duplicate', 'imported']);
    expect(library.images.list()).toHaveLength(2);
    library.close();
  });

  it('stops between files when cancelled', async () => {
    const library = Library.open(tmpDir());
    const controller = new AbortController();
    const run = importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg')), photoFromPath(fixtureImage('cat_00.jpg'))], {
      signal: controller.signal,
      onProgress: (p) => p.done === 1 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(library.images.list()).toHaveLength(1);
    library.close();
  });
});
