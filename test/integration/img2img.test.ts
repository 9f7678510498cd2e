// img2img and inpainting through the compose service and the CLI (tiny SD): a library photo or a Gallery image as
// the start, its shape setting the size unless one is asked for; inpainting keeps every pixel outside the feathered
// mask exactly, redraws inside it, and works with concepts as text-to-image does. The sampler's path from the
// noised start is checked against diffusers' img2img in reference.test.ts and schedulers.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composition, type CompositionInput } from '../../src-preload/contract/compose.js';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { composeImages } from '../../src-main/pipeline/compose/compose-service.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { readPngText } from '../../src-main/pipeline/sample/png-metadata.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTinyInpaintingFile, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('img2img and inpainting (tiny SD)', { timeout: 180_000 }, () => {
  let root: string;
  let model: string;
  let library: Library;
  let photoId: string;
  let wideId: string;
  let dogId: string;
  const draw = async (extra: Partial<CompositionInput>) => {
    const { generations } = await composeImages(library, {
      model,
      composition: composition.parse({ prompt: 'a photo of a dog', steps: 4, seed: 5, ...extra }),
      provider: 'cpu',
    });
    return readFileSync(library.store.pathOf(generations[0]!.sha256));
  };
  const raw = async (png: Buffer) => sharp(png).removeAlpha().raw().toBuffer();
  /** The start photo as the service crops it, for comparison. */
  const cropped = async (width: number, height: number) =>
    sharp(await library.store.read(library.images.get(photoId).sha256))
      .removeAlpha()
      .resize(width, height, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer();
  // the left half painted: redraw there, keep the right half
  const leftHalf = async () =>
    `data:image/png;base64,${(
      await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .composite([
          {
            input: await sharp({ create: { width: 24, height: 64, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } })
              .png()
              .toBuffer(),
            left: 0,
            top: 0,
          },
        ])
        .png()
        .toBuffer()
    ).toString('base64')}`;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-img2img-'));
    model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    library = Library.open(join(root, 'library'));
    // the fixtures are square; a 3:2 crop shows the size following the photo
    const wide = join(root, 'dog-wide.png');
    await sharp(fixtureImage('dog_00.jpg')).extract({ left: 0, top: 130, width: 780, height: 520 }).png().toFile(wide);
    const [photo, widePhoto] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg')), photoFromPath(wide)]);
    photoId = photo!.status === 'imported' ? photo!.image.id : '';
    wideId = widePhoto!.status === 'imported' ? widePhoto!.image.id : '';
    dogId = (
      await library.concepts.add({
        name: 'Rex',
        classWord: 'dog',
        imageId: null,
        maskId: null,
        baseModelId: null,
        file: readFileSync(writeRandomConcept(join(root, 'rex.safetensors'), 1, 'dog')),
      })
    ).id;
  });
  afterAll(() => {
    library.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('takes the start photo’s shape (long side the model’s size), and says its strength in the PNG', async () => {
    const base = (await sharp(await draw({})).metadata()).width!; // what the model draws without a size
    const png = await draw({ start: { imageId: wideId, strength: 0.5 } });
    const meta = await sharp(png).metadata();
    // 780×520 with its long side the model's size; the short side to the nearest multiple of 16 (the tiny model's)
    expect([meta.width, meta.height]).toEqual([base, Math.round((base * 2) / 3 / 16) * 16]);
    expect(readPngText(png).parameters).toMatch(/Denoising strength: 0\.5/);
    // the same composition draws the same bytes; a stronger one another image
    expect((await draw({ start: { imageId: wideId, strength: 0.5 } })).equals(png)).toBe(true);
    expect((await draw({ start: { imageId: wideId, strength: 0.9 } })).equals(png)).toBe(false);
  });

  it('inpainting keeps every pixel outside the feathered mask, redraws inside, with a concept', async () => {
    const png = await draw({
      width: 64,
      height: 64,
      start: { imageId: photoId, strength: 0.8, inpaint: await leftHalf(), feather: 4 },
      prompt: 'a photo of * dog',
      concepts: [{ placeholder: '*', conceptId: dogId }],
    });
    const [drawn, start] = [await raw(png), await cropped(64, 64)];
    let kept = 0;
    let changed = 0;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        const j = (y * 64 + x) * 3;
        const same = [0, 1, 2].every((c) => drawn[j + c] === start[j + c]);
        if (x >= 24 + 8) {
          // beyond the mask and its feather: the start photo, to the byte
          expect(same, `pixel ${x},${y}`).toBe(true);
          kept++;
        } else if (x < 24 - 8 && !same) changed++;
      }
    expect(kept).toBe(32 * 64);
    expect(changed).toBeGreaterThan(0.9 * 16 * 64);
    // a Gallery image is a start too
    const [gen] = library.generations.list();
    await expect(draw({ start: { imageId: gen!.id, strength: 0.3 }, width: 32, height: 32 })).resolves.toBeInstanceOf(Buffer);
  });

  it('inside (or, inverted, outside) the photo’s saved mask: the kept part is the start to the byte', async () => {
    const image = library.images.get(wideId);
    // a disc in the middle, as the mask studio saves one (white on black, the photo's size)
    const saved = await library.masks.save({ imageId: wideId, classWord: 'dog', png: await discMaskPng(image.width, image.height), source: 'sam' });
    const [w, h] = [96, 64];
    const start = await (async () =>
      sharp(await library.store.read(image.sha256))
        .removeAlpha()
        .resize(w, h, { fit: 'cover', position: 'centre' })
        .raw()
        .toBuffer())();
    // the disc's radius is a third of the photo's width (32 px here): well inside it, and well beyond it (the feather apart)
    const inside = (x: number, y: number) => (x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 3 - 6) ** 2;
    const outside = (x: number, y: number) => (x - w / 2) ** 2 + (y - h / 2) ** 2 > (w / 3 + 6) ** 2;
    const compare = async (png: Buffer, keptWhere: (x: number, y: number) => boolean, redrawnWhere: (x: number, y: number) => boolean) => {
      const drawn = await raw(png);
      let [kept, redrawn, changed] = [0, 0, 0];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const j = (y * w + x) * 3;
          const same = [0, 1, 2].every((c) => drawn[j + c] === start[j + c]);
          if (keptWhere(x, y)) {
            expect(same, `kept pixel ${x},${y}`).toBe(true);
            kept++;
          } else if (redrawnWhere(x, y)) {
            redrawn++;
            if (!same) changed++;
          }
        }
      expect(kept).toBeGreaterThan(100);
      expect(changed).toBeGreaterThan(0.9 * redrawn);
    };
    // keep the dog, redraw the scene around it
    await compare(await draw({ width: w, height: h, start: { imageId: wideId, strength: 0.9, mask: saved.id, invert: true, feather: 4 } }), inside, outside);
    // redraw the dog, keep the scene
    await compare(await draw({ width: w, height: h, start: { imageId: wideId, strength: 0.9, mask: saved.id, feather: 4 } }), outside, inside);
    // a mask of another photo is refused, naming it
    await expect(draw({ start: { imageId: photoId, mask: saved.id } })).rejects.toThrow(
      new RegExp(`Mask ${saved.id} \\(dog v1\\) belongs to another photo than the start image`),
    );
  });

  it('at strength 0 returns the start image itself, as the drawing shows it', async () => {
    const png = await draw({ width: 64, height: 48, start: { imageId: wideId, strength: 0 } });
    const start = await sharp(await library.store.read(library.images.get(wideId).sha256))
      .removeAlpha()
      .resize(64, 48, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer();
    expect((await raw(png)).equals(start)).toBe(true);
    expect(readPngText(png).parameters).toMatch(/Denoising strength: 0, Start image: img_/);
  });

  it('refuses a 9-channel inpainting checkpoint, saying what to use instead', async () => {
    const inpainting = writeTinyInpaintingFile(join(root, 'sd-inpainting.safetensors'));
    await expect(
      composeImages(library, {
        model: inpainting,
        composition: composition.parse({ prompt: 'a dog', steps: 2, start: { imageId: photoId } }),
        provider: 'cpu',
      }),
    ).rejects.toThrow(
      /is an inpainting checkpoint \(its UNet takes 9 channels: latents, mask and masked image\)\. SingleInsert Studio inpaints with the SD 1\.5 base model/,
    );
  });

  it('refuses an empty mask, a strength that runs no step, and a start that is not in the library', async () => {
    const empty = `data:image/png;base64,${(
      await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .png()
        .toBuffer()
    ).toString('base64')}`;
    await expect(draw({ width: 32, height: 32, start: { imageId: photoId, inpaint: empty } })).rejects.toThrow(
      /The inpainting mask is empty: paint where the picture should change\./,
    );
    await expect(draw({ start: { imageId: photoId, strength: 0.1 } })).rejects.toThrow(/strength 0\.1 runs no step of 4: raise the strength or the steps/);
    await expect(draw({ start: { imageId: 'img_nothere1' } })).rejects.toThrow(/img_nothere1/);
  });

  it('the CLI: --start, --denoise, --inpaint and --feather', async () => {
    const err: string[] = [];
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const mask = join(root, 'mask.png');
    writeFileSync(mask, Buffer.from((await leftHalf()).split(',')[1]!, 'base64'));
    const [savedMask] = library.masks.list(wideId);
    const args = [
      'generate',
      '--model',
      model,
      '--prompt',
      'a photo of a dog',
      '--steps',
      '4',
      '--seed',
      '5',
      '--width',
      '64',
      '--height',
      '64',
      '--data-dir',
      library.dataDir,
    ];
    library.close();
    try {
      expect(
        await runCli([...args, '--start', photoId, '--denoise', '0.8', '--inpaint', mask, '--feather', '4', '--out', join(root, 'cli')], io, {}),
        err.join('\n'),
      ).toBe(0);
      expect(readPngText(readFileSync(out.at(-1)!)).parameters).toMatch(/Denoising strength: 0\.8/);
      // a saved mask by its id, the other way round
      expect(await runCli([...args, '--start', wideId, '--inpaint', savedMask!.id, '--invert', '--out', join(root, 'cli')], io, {}), err.join('\n')).toBe(0);
      expect(JSON.parse(readPngText(readFileSync(out.at(-1)!)).singleinsert!)).toMatchObject({ composition: { start: { mask: savedMask!.id, invert: true } } });
      expect(await runCli([...args, '--denoise', '0.5'], io, {})).toBe(2);
      expect(err.at(-1)).toMatch(/--denoise, --inpaint, --invert and --feather go with --start <image id>/);
      expect(await runCli([...args, '--start', photoId, '--denoise', '1.5'], io, {})).toBe(2);
      expect(err.at(-1)).toMatch(/--denoise must be from 0 to 1/);
    } finally {
      library = Library.open(join(root, 'library'));
    }
  });
});
