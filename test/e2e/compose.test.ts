// The Compose screen and the Gallery in Chromium (tiny SD, two concepts): concepts into the prompt by
// "@" and by the strip, a box for one and a painted area for the other, a drawing whose preview moves, the image in the
// Gallery with both concepts linked, sent back to Compose and drawn again to the same bytes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Library } from '../../src-main/library/library.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { readPngText } from '../../src-main/pipeline/sample/png-metadata.js';
import { importConcept } from '../../src-main/pipeline/interop/concept-exchange.js';
import { adaptableLayers } from '../../src-main/models/lora-modules.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { writeRandomConcept, writeTinyFullLora } from '../helpers/random-concept.js';
import { writeTinyTaesd } from '../helpers/tiny-taesd.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe('Compose and Gallery in Chromium (tiny SD, two concepts)', { timeout: 180_000 }, () => {
  let root: string;
  let dataDir: string;
  let session: AppSession;
  let page: Page;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-compose-'));
    dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    const model = await installFromPath(library, writeTinySingleFile(join(root, 'tiny-sd.safetensors')), { name: 'tiny SD' });
    for (const [seed, name, classWord] of [
      [1, 'Rex', 'dog'],
      [2, 'Straw hat', 'hat'],
    ] as const) {
      const file = readFileSync(writeRandomConcept(join(root, `${name}.safetensors`), seed, classWord));
      ids[name] = (await library.concepts.add({ name, classWord, imageId: null, maskId: null, baseModelId: model.id, file })).id;
    }
    library.close();
    session = await openApp(dataDir, { width: 1440, height: 1000 });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The newest generated image's id (null before any). */
  const newestId = () => {
    const lib = Library.open(dataDir, { reconcile: false });
    try {
      return lib.generations.list()[0]?.id ?? null;
    } finally {
      lib.close();
    }
  };
  /** The newest generated image's RGB bytes. */
  const newestPixels = async () => {
    const lib = Library.open(dataDir, { reconcile: false });
    try {
      return await sharp(await lib.store.read(lib.generations.list()[0]!.sha256))
        .removeAlpha()
        .raw()
        .toBuffer();
    } finally {
      lib.close();
    }
  };
  /** A library photo cropped to fill width × height, as the start image is. */
  const croppedStart = async (imageId: string, width: number, height: number) => {
    const lib = Library.open(dataDir, { reconcile: false });
    try {
      return await sharp(await lib.store.read(lib.images.get(imageId).sha256))
        .removeAlpha()
        .resize(width, height, { fit: 'cover', position: 'centre' })
        .raw()
        .toBuffer();
    } finally {
      lib.close();
    }
  };

  /** Drags on the canvas from one point to another, in fractions of its size. */
  async function dragBox(from: [number, number], to: [number, number]) {
    const box = (await page.getByTestId('region-canvas').boundingBox())!;
    await page.mouse.move(box.x + from[0] * box.width, box.y + from[1] * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + ((from[0] + to[0]) / 2) * box.width, box.y + ((from[1] + to[1]) / 2) * box.height);
    await page.mouse.move(box.x + to[0] * box.width, box.y + to[1] * box.height);
    await page.mouse.up();
  }

  it('puts two concepts in the prompt (by @ and from the strip), one region each, and draws with a moving preview', async () => {
    await page.getByRole('link', { name: 'Compose', exact: true }).click();
    const prompt = page.getByRole('textbox', { name: /Prompt/ });
    await prompt.click();
    await prompt.pressSequentially('a photo of @re');
    await page.getByRole('listbox', { name: 'Concepts' }).getByText('Rex').waitFor();
    await prompt.press('Enter');
    await prompt.pressSequentially(' wearing a');
    await page.getByTestId('strip-concept').filter({ hasText: 'Straw hat' }).click();
    await expect(prompt.inputValue()).resolves.toBe('a photo of * dog wearing a *2 hat');
    await expect(page.getByTestId('concept-chips').textContent()).resolves.toMatch(/\*\s*Rex[\s\S]*\*2\s*Straw hat/);

    // a chip whose placeholder the prompt lost stops the drawing, saying why
    await prompt.fill('a photo of * dog wearing a hat');
    await expect(page.getByTestId('compose-problem').textContent()).resolves.toMatch(/does not use \*2 \(Straw hat\)/);
    await prompt.fill('a photo of * dog wearing a *2 hat');

    await page.getByRole('button', { name: 'Place * on the canvas' }).click();
    await dragBox([0.05, 0.1], [0.5, 0.95]);
    // the hat's area is painted: two strokes across the top right
    await page.getByRole('button', { name: 'Place *2 on the canvas' }).click();
    await page.getByRole('toolbar', { name: 'Region tools' }).getByLabel('paint').check();
    await dragBox([0.55, 0.08], [0.92, 0.1]);
    await dragBox([0.55, 0.22], [0.92, 0.25]);
    await page.getByRole('toolbar', { name: 'Region tools' }).getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('region-*').waitFor();
    await page.getByTestId('region-*2').waitFor();

    await page.getByRole('spinbutton', { name: 'Width' }).fill('100');
    await page.getByTestId('compose-problem').getByText('Width and height must be multiples of 64 (now 100×512).').waitFor();
    await page.getByRole('spinbutton', { name: 'Width' }).fill('64');
    await page.getByRole('spinbutton', { name: 'Height' }).fill('64');
    // a number out of range: said in plain words naming the field, the field marked, Generate held
    await page.getByLabel('Steps').fill('99999');
    await page.getByRole('alert').getByText('Steps must be at most 1000.', { exact: true }).waitFor();
    await expect(page.getByLabel('Steps').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByTestId('generate').isDisabled()).resolves.toBe(true);
    await page.getByRole('spinbutton', { name: 'Images' }).fill('2.5');
    await page.getByLabel('Steps').fill('25');
    await page.getByRole('alert').getByText('Images must be a whole number.', { exact: true }).waitFor();
    await expect(page.getByLabel('Steps').getAttribute('aria-invalid')).resolves.toBe(null);
    await page.getByRole('spinbutton', { name: 'Images' }).fill('1');
    await page.getByTestId('compose-problem').waitFor({ state: 'detached' });
    await page.getByRole('combobox', { name: 'Seed mode' }).selectOption('fixed');
    await page.getByRole('spinbutton', { name: 'Seed' }).fill('5');
    // count the distinct previews the canvas shows while it draws
    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { previews: Set<string> }).previews = seen;
      new MutationObserver(() => {
        const img = document.querySelector<HTMLImageElement>('[data-testid=region-canvas] img');
        if (img?.src.startsWith('data:')) seen.add(img.src);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
    });
    await page.getByTestId('generate').click();
    await page
      .getByTestId('draw-progress')
      .getByText(/Step \d+ of 25/)
      .waitFor();
    await page.getByTestId('compose-results').waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (window as unknown as { previews: Set<string> }).previews.size)).toBeGreaterThan(2);
    await page.screenshot({ path: join(ARTIFACTS, 'compose-regions.png'), fullPage: true });

    const library = Library.open(dataDir, { reconcile: false });
    const [g] = library.generations.list();
    expect(g!.composition).toMatchObject({ prompt: 'a photo of * dog wearing a *2 hat', seed: 5, steps: 25, width: 64, height: 64 });
    expect(g!.composition!.regions.map((r) => [r.placeholder, 'box' in r ? 'box' : 'paint'])).toEqual([
      ['*', 'box'],
      ['*2', 'paint'],
    ]);
    expect(g!.concepts).toEqual([
      { conceptId: ids.Rex, placeholder: '*', scale: 1 },
      { conceptId: ids['Straw hat'], placeholder: '*2', scale: 1 },
    ]);
    library.close();
  });

  it('keeps the form as a draft, marked unsaved, across a trip to the Gallery and a reload', async () => {
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('euler');
    await page.getByRole('spinbutton', { name: 'Seed' }).fill('1234');
    await page.getByTestId('compose-unsaved').waitFor();
    const expectDraft = async () => {
      await expect(page.getByRole('textbox', { name: /Prompt/ }).inputValue()).resolves.toBe('a photo of * dog wearing a *2 hat');
      await page.getByTestId('concept-chips').getByText('Straw hat').waitFor();
      await expect(page.getByTestId('concept-chips').textContent()).resolves.toMatch(/\*\s*Rex[\s\S]*\*2\s*Straw hat/);
      await page.getByTestId('region-*').waitFor();
      await page.getByTestId('region-*2').waitFor();
      await expect(page.getByRole('combobox', { name: 'Sampler' }).inputValue()).resolves.toBe('euler');
      await expect(page.getByRole('combobox', { name: 'Seed mode' }).inputValue()).resolves.toBe('fixed');
      await expect(page.getByRole('spinbutton', { name: 'Seed' }).inputValue()).resolves.toBe('1234');
      await expect(page.getByRole('spinbutton', { name: 'Steps' }).inputValue()).resolves.toBe('25');
      await page.getByTestId('compose-unsaved').waitFor();
    };
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    await page.getByTestId('gallery-card').first().waitFor();
    await page.getByRole('link', { name: 'Compose', exact: true }).click();
    await expectDraft();
    await page.reload();
    await expectDraft();
    // the screen opens at its top, whatever the last one's scroll
    await expect(page.evaluate(() => document.querySelector('.content')!.scrollTop)).resolves.toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'compose-draft-after-reload.png') });
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
    await page.getByRole('spinbutton', { name: 'Seed' }).fill('5');
  });

  it('says what LCM needs, and offers TAESD only once it is installed', async () => {
    await expect(page.getByTestId('few-step-hint').count()).resolves.toBe(0);
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('lcm');
    await expect(page.getByTestId('few-step-hint').textContent()).resolves.toMatch(/LCM is for models distilled for it .*4–8 steps, guidance 1–2/s);
    // 25 steps are within LCM's 50; 60 are not, and the field says so in words
    await page.getByLabel('Steps').fill('60');
    await page
      .getByRole('alert')
      .getByText(/^Steps: LCM takes at most 50 steps \(it is made for 4 to 8\); choose fewer steps or another sampler\.$/)
      .waitFor();
    await expect(page.getByLabel('Steps').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByLabel('Steps').fill('25');
    const taesd = page.getByTestId('compose-decoder').locator('option[value=taesd]');
    await expect(taesd.textContent()).resolves.toBe('TAESD (fast draft) — add TAESD in Settings › Models');
    await expect(taesd.isDisabled()).resolves.toBe(true);
    await page.getByRole('complementary', { name: 'Settings' }).screenshot({ path: join(ARTIFACTS, 'compose-lcm-settings.png') });
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  });

  it('shows the image in the Gallery with its concepts, sends it back to Compose and draws the same bytes', async () => {
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    const card = page.getByTestId('gallery-card').first();
    await expect(card.textContent()).resolves.toMatch(/a photo of \* dog wearing a \*2 hat[\s\S]*seed 5[\s\S]*\* Rex ×1, \*2 Straw hat ×1/);
    await card.getByRole('button', { name: /Mark .* as favourite/ }).click();
    await card.getByRole('button', { name: /Unmark/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'gallery.png') });
    await card.getByRole('button', { name: /^View / }).click();
    await page.getByRole('dialog').getByText('Regions').waitFor();
    await page.keyboard.press('Escape'); // the viewer closes with Escape
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await card.getByRole('button', { name: /^View / }).click();
    await page.getByRole('dialog').getByText('Regions').waitFor();
    const viewer = page.getByRole('dialog');
    await expect(viewer.getByTestId('viewer-seed').textContent()).resolves.toBe('5');
    await expect(viewer.textContent()).resolves.toMatch(/Sampler\s*ddim, \d+ steps\s*Guidance\s*7\.5\s*Size\s*\d+×\d+\s*Model\s*tiny-sd/);
    // fitted, the image fills the viewer's area whatever its own size; 1:1 shows its pixels
    const area = (await viewer.getByTestId('viewer-image').boundingBox())!;
    const fitted = (await viewer.getByTestId('viewer-image').locator('img').boundingBox())!;
    expect(Math.max(fitted.width / area.width, fitted.height / area.height)).toBeGreaterThan(0.95);
    await viewer.getByRole('button', { name: '1:1' }).click();
    const actual = (await viewer.getByTestId('viewer-image').locator('img').boundingBox())!;
    expect(actual.width).toBeLessThan(fitted.width);
    await page.screenshot({ path: join(ARTIFACTS, 'gallery-viewer.png') });
    await viewer.getByRole('button', { name: 'Fit' }).click();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await viewer.getByRole('button', { name: 'Copy prompt' }).click();
    await page.getByText('Prompt copied.').waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe('a photo of * dog wearing a *2 hat');
    await viewer.getByRole('button', { name: 'Reuse settings' }).click();

    const prompt = page.getByRole('textbox', { name: /Prompt/ });
    await page.getByTestId('region-*2').waitFor();
    await expect(prompt.inputValue()).resolves.toBe('a photo of * dog wearing a *2 hat');
    await expect(page.getByRole('spinbutton', { name: 'Seed' }).inputValue()).resolves.toBe('5');
    await page.getByTestId('generate').click();
    await page.getByTestId('compose-results').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=compose-results] img').length === 1);
    const library = Library.open(dataDir, { reconcile: false });
    const [again, first] = library.generations.list();
    expect(again!.id).not.toBe(first!.id);
    expect(again!.sha256).toBe(first!.sha256);
    library.close();
  });

  it('saves the composition, and after a reload opens it with its concepts, regions and settings', async () => {
    await page.getByText('Saved compositions (0)').click();
    await page.getByRole('textbox', { name: 'Composition name' }).fill('Rex in a hat');
    await page.getByRole('button', { name: 'Save as new' }).click();
    await page.getByText('Saved the composition "Rex in a hat".').waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Compose', exact: true }).click();
    await page.getByText('Saved compositions (1)').click();
    await page.getByRole('button', { name: 'Rex in a hat', exact: true }).click();
    await expect(page.getByRole('textbox', { name: /Prompt/ }).inputValue()).resolves.toBe('a photo of * dog wearing a *2 hat');
    await page.getByTestId('region-*').waitFor();
    await page.getByTestId('region-*2').waitFor();
    await expect(page.getByRole('spinbutton', { name: 'Steps' }).inputValue()).resolves.toBe('25');
  });

  it('a reload mid-drawing finds it running, and shows its image when it ends', async () => {
    await page.getByRole('spinbutton', { name: 'Steps' }).fill('80');
    await page.getByTestId('generate').click();
    await page
      .getByTestId('draw-progress')
      .getByText(/Step [1-9]\d* of 80/)
      .waitFor();
    await page.reload();
    // the drawing is found again: its progress moves on, and its image shows here when it ends
    await page.getByTestId('draw-progress').waitFor();
    await page.getByTestId('compose-results').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('draw-progress').count()).resolves.toBe(0);
    const library = Library.open(dataDir, { reconcile: false });
    const [latest] = library.generations.list();
    library.close();
    expect(latest!.composition!.steps).toBe(80);
    await expect(page.getByTestId('compose-results').locator('img').getAttribute('src')).resolves.toContain(latest!.sha256);
    await page
      .getByTestId('toast')
      .getByText(/^Drawn: 1 image \(/)
      .waitFor();
  });

  it('queues a second drawing; cancelling asks first and says "Cancelling…" at once', async () => {
    await page.getByRole('spinbutton', { name: 'Steps' }).fill('400');
    await page.getByTestId('generate').click();
    await page
      .getByTestId('draw-progress')
      .getByText(/Step [1-9]\d* of 400/)
      .waitFor();
    await expect(page.getByTestId('generate').textContent()).resolves.toBe('Queue another drawing');
    await page.getByTestId('generate').click();
    await page.getByTestId('draw-queue').getByText('1 more drawing queued after this one.').waitFor();
    await page.getByTestId('draw-queue').getByRole('button', { name: 'Take them out' }).click();
    await page.getByTestId('draw-queue').waitFor({ state: 'detached' });
    // the running one: asked first, and said at once
    await page.getByTestId('cancel-drawing').click();
    const ask = page.getByRole('dialog', { name: 'Cancel the drawing?' });
    await ask.getByText(/It has drawn \d+ of 400 steps; cancelling throws them away\./).waitFor();
    await ask.getByRole('button', { name: 'Keep drawing' }).click();
    await page.getByTestId('cancel-drawing').click();
    await ask.getByRole('button', { name: 'Cancel the drawing' }).click();
    await page.getByTestId('cancel-drawing').getByText('Cancelling…').waitFor({ timeout: 1000 });
    await page.getByTestId('draw-progress').waitFor({ state: 'detached', timeout: 30_000 });
    await page
      .getByTestId('toast')
      .getByText(/^Cancelled: Draw "a photo of \* dog wearing a \*2 hat" \(at \d+ of 400\)\.$/)
      .first()
      .waitFor();
    await expect(page.getByTestId('generate').textContent()).resolves.toBe('Generate');
    await page.screenshot({ path: join(ARTIFACTS, 'compose-cancelled.png') });
  });

  it('finds images in the Gallery by search and board, moves between them by keyboard, and downloads one with its provenance', async () => {
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    const cards = page.getByTestId('gallery-card');
    await cards.nth(2).waitFor();
    const total = await cards.count();
    // the whole prompt and settings on hover
    await expect(cards.first().getAttribute('title')).resolves.toMatch(
      /^a photo of \* dog wearing a \*2 hat\nddim 80 steps · guidance 7\.5 · seed 5 · 64×64 · tiny-sd[\s\S]*\* Rex ×1, \*2 Straw hat ×1$/,
    );
    await page.getByRole('searchbox', { name: 'Search images' }).fill('marble statue');
    await page.getByTestId('gallery-no-match').waitFor();
    await page.getByTestId('gallery-no-match').getByRole('button', { name: 'Show every image' }).click();
    await expect(cards.count()).resolves.toBe(total);
    await page.getByRole('searchbox', { name: 'Search images' }).fill('rex 80');
    await expect(cards.count()).resolves.toBe(0); // "80" is no seed here: the step count is not searched
    await page.getByRole('searchbox', { name: 'Search images' }).fill('straw seed 5');
    await expect(cards.count()).resolves.toBe(total);
    await page.getByRole('searchbox', { name: 'Search images' }).fill('');

    // keyboard: the arrows move between thumbnails; in the viewer, between images
    await cards.first().locator('.thumb').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.evaluate(() => document.activeElement === document.querySelectorAll('[data-testid=gallery-grid] .thumb')[1])).resolves.toBe(true);
    await page.keyboard.press('Enter');
    const viewer = page.getByRole('dialog');
    const shownSrc = () => viewer.getByTestId('viewer-image').locator('img').getAttribute('src');
    const second = await shownSrc();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(shownSrc).not.toBe(second);
    await page.keyboard.press('ArrowRight');
    await expect.poll(shownSrc).toBe(second);

    // a board, from the viewer; the Gallery then filters by it
    await viewer.getByRole('combobox', { name: 'Add to a board' }).fill('keepers');
    await viewer.getByRole('button', { name: 'Add', exact: true }).click();
    await viewer.getByTestId('viewer-boards').getByText('keepers').waitFor();
    // the PNG comes to the browser as a download, with the concepts, strengths and regions written inside
    const [download] = await Promise.all([page.waitForEvent('download'), viewer.getByRole('link', { name: 'Export PNG' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^gen_[0-9a-z]+\.png$/);
    const saved = join(root, 'downloaded.png');
    await download.saveAs(saved);
    const text = readPngText(readFileSync(saved));
    expect(text.parameters).toMatch(/SingleInsert concepts: "\* Rex \(dog\) x1; \*2 Straw hat \(hat\) x1", Regions: "\* box [\d. ]+; \*2 painted"/);
    await page.keyboard.press('Escape');
    await page.getByRole('combobox', { name: 'Board' }).selectOption('keepers');
    await expect(cards.count()).resolves.toBe(1);
    await expect(cards.first().textContent()).resolves.toContain('▸ keepers');
    await page.screenshot({ path: join(ARTIFACTS, 'gallery-board.png') });
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.generations.boards()).toEqual([{ name: 'keepers', count: 1 }]);
    library.close();
    await page.getByRole('combobox', { name: 'Board' }).selectOption({ label: 'Every board' });
  });

  it('Draft (LCM) says what it needs; with an LCM-LoRA in the library it sets LCM, 4 steps, guidance 1 and adds the LoRA', async () => {
    await page.getByRole('link', { name: 'Compose', exact: true }).click();
    await page.getByTestId('draft-preset').click();
    const needs = page.getByTestId('draft-needs');
    await expect(needs.locator('li').allTextContents()).resolves.toEqual([
      'the LCM-LoRA for SD 1.5 (latent-consistency/lcm-lora-sdv1-5): import its .safetensors as a style in Library › Import concept…, or find it with Settings › Models › Scan folder and choose "Use as concept".',
      'TAESD (madebyollin/taesd, or taesd_decoder.safetensors from A1111 or ComfyUI): add it in Settings › Models.',
    ]);
    await expect(needs.getByRole('link', { name: 'Open Settings › Models' }).getAttribute('href')).resolves.toBe('#/settings');
    await expect(page.getByRole('combobox', { name: 'Sampler' }).inputValue()).resolves.toBe('ddim');
    await page.getByRole('complementary', { name: 'Settings' }).screenshot({ path: join(ARTIFACTS, 'compose-draft-needs.png') });
    // the LoRA arrives (as Library › Import concept would put it), the screen is opened again
    const library = Library.open(dataDir);
    await importConcept(library, [writeTinyFullLora(join(root, 'lcm-lora-sdv1-5.safetensors'), 11)], {
      classWord: '',
      name: 'lcm-lora-sdv1-5',
      layers: adaptableLayers(TINY_UNET, TINY_CLIP_TEXT),
    });
    library.close();
    await page.reload();
    await page.getByTestId('draft-preset').click();
    await page.getByTestId('concept-chips').getByText('lcm-lora-sdv1-5').waitFor();
    await expect(page.getByRole('combobox', { name: 'Sampler' }).inputValue()).resolves.toBe('lcm');
    await expect(page.getByRole('spinbutton', { name: 'Steps' }).inputValue()).resolves.toBe('4');
    await expect(page.getByRole('spinbutton', { name: 'Guidance' }).inputValue()).resolves.toBe('1');
    await expect(page.getByTestId('compose-decoder').inputValue()).resolves.toBe('vae');
    await expect(page.getByTestId('draft-needs').textContent()).resolves.toMatch(/^\s*Set for a draft\. For a quicker decode, add:\s*TAESD/);
    await expect(page.getByTestId('draft-needs').locator('li').count()).resolves.toBe(1);
    // clicked again, the LoRA is not added twice
    await page.getByTestId('draft-preset').click();
    await expect(page.getByTestId('concept-chips').getByText('lcm-lora-sdv1-5').count()).resolves.toBe(1);
    await page.getByRole('complementary', { name: 'Settings' }).screenshot({ path: join(ARTIFACTS, 'compose-draft-set.png') });
    // with TAESD installed the preset decodes by it, and the draft is drawn: LCM, 4 steps, guidance 1, TAESD
    const withTaesd = Library.open(dataDir);
    await installFromPath(withTaesd, writeTinyTaesd(join(root, 'tiny-taesd')), { name: 'tiny TAESD' });
    withTaesd.close();
    await page.reload();
    await page.getByTestId('draft-preset').click();
    await expect(page.getByTestId('compose-decoder').inputValue()).resolves.toBe('taesd');
    await expect(page.getByTestId('draft-needs').count()).resolves.toBe(0);
    await page.getByRole('spinbutton', { name: 'Width' }).fill('64');
    await page.getByRole('spinbutton', { name: 'Height' }).fill('64');
    await page.getByTestId('compose-problem').waitFor({ state: 'detached' });
    const before = await newestId();
    await page.getByTestId('generate').click();
    await expect.poll(newestId, { timeout: 60_000 }).not.toBe(before);
    const drawn = Library.open(dataDir, { reconcile: false });
    try {
      const [made] = drawn.generations.list();
      expect(made!.composition).toMatchObject({ sampler: 'lcm', steps: 4, guidance: 1, decoder: 'taesd' });
      expect(made!.concepts.map((c) => c.conceptId)).toContain(drawn.concepts.list().find((c) => c.name === 'lcm-lora-sdv1-5')!.id);
    } finally {
      drawn.close();
    }
    await page.getByTestId('compose-results').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'compose-draft-drawn.png'), fullPage: true });
  });

  it('"Draw over" a library photo: the start on the canvas, its shape sets the size, and only the regions are redrawn', async () => {
    // a 3:2 photo arrives in the library
    const wide = join(root, 'dog-wide.png');
    await sharp(fixtureImage('dog_00.jpg')).extract({ left: 0, top: 130, width: 780, height: 520 }).png().toFile(wide);
    const library = Library.open(dataDir);
    const [photo] = await importPhotos(library, [photoFromPath(wide)]);
    const photoId = photo!.status === 'imported' ? photo!.image.id : '';
    // saved in the mask studio (a disc in the middle)
    const mask = await library.masks.save({ imageId: photoId, classWord: 'dog', png: await discMaskPng(780, 520), source: 'sam' });
    library.close();
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await page.getByTestId('library-card').filter({ hasText: 'dog-wide.png' }).getByRole('button', { name: 'Draw over', exact: true }).click();
    const start = page.getByTestId('start-image');
    await start.getByText('dog-wide.png').waitFor();
    expect(new URL(page.url()).hash).toBe('#/compose');
    // the size follows the photo: 512 on the long side, 320 (a multiple of 64) on the short
    await expect(page.getByRole('spinbutton', { name: 'Width' }).inputValue()).resolves.toBe('512');
    await expect(page.getByRole('spinbutton', { name: 'Height' }).inputValue()).resolves.toBe('320');
    await expect(page.getByTestId('region-canvas').locator('img.canvas-image').getAttribute('src')).resolves.toMatch(/\/files\//);
    await page.getByTestId('redraw-regions').check();
    await page.getByRole('spinbutton', { name: 'Width' }).fill('64');
    await page.getByRole('spinbutton', { name: 'Height' }).fill('64');
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
    await page.getByLabel('Steps').fill('4');
    await page.getByTestId('compose-problem').waitFor({ state: 'detached' });
    await page.getByRole('complementary', { name: 'Settings' }).screenshot({ path: join(ARTIFACTS, 'compose-start-image.png') });
    await page.getByTestId('generate').click();
    await page.getByTestId('compose-results').waitFor({ timeout: 60_000 });
    const again = Library.open(dataDir, { reconcile: false });
    try {
      const [made] = again.generations.list();
      expect(made!.composition!.start).toMatchObject({
        imageId: photoId,
        strength: 0.6,
        feather: 8,
        inpaint: expect.stringMatching(/^data:image\/png;base64,/),
      });
    } finally {
      again.close();
    }
    await page.screenshot({ path: join(ARTIFACTS, 'compose-inpainted.png'), fullPage: true });
    // strength 0 redraws nothing: the start photo as the drawing shows it
    await page.getByLabel('Redraw strength').fill('0');
    const beforeZero = await newestId();
    await page.getByTestId('generate').click();
    await expect.poll(newestId, { timeout: 60_000 }).not.toBe(beforeZero);
    const photoCrop = await croppedStart(photoId, 64, 64);
    expect((await newestPixels()).equals(photoCrop)).toBe(true);
    await page.getByLabel('Redraw strength').fill('0.6');
    // keep the dog its saved mask covers, redraw the rest
    await page.getByTestId('redraw-mask').check();
    await expect(page.getByRole('combobox', { name: 'Saved mask' }).locator('option').allTextContents()).resolves.toEqual(['dog v1']);
    await page.getByTestId('redraw-invert').check();
    await page.getByRole('complementary', { name: 'Settings' }).screenshot({ path: join(ARTIFACTS, 'compose-start-mask.png') });
    await page.getByTestId('generate').click();
    await page.getByText('Drawn with seed 5.').waitFor();
    await expect
      .poll(() => {
        const lib = Library.open(dataDir, { reconcile: false });
        try {
          return lib.generations.list()[0]!.composition!.start;
        } finally {
          lib.close();
        }
      })
      .toMatchObject({ imageId: photoId, mask: mask.id, invert: true, inpaint: null });
    // measured: inside the disc (its radius 32 px here, less the feather) every pixel is the photo's; beyond it, redrawn
    const pixels = await newestPixels();
    let [kept, outside, changed] = [0, 0, 0];
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        const r = Math.hypot(x + 0.5 - 32, y + 0.5 - 32);
        const same = [0, 1, 2].every((c) => pixels[(y * 64 + x) * 3 + c] === photoCrop[(y * 64 + x) * 3 + c]);
        if (r < 32 - 6) {
          expect(same, `kept pixel ${x},${y}`).toBe(true);
          kept++;
        } else if (r > 32 + 6) {
          outside++;
          if (!same) changed++;
        }
      }
    expect(kept).toBeGreaterThan(1500);
    expect(changed).toBeGreaterThan(0.9 * outside);
    // the Gallery says what it was drawn over, and how
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    await page
      .getByTestId('gallery-card')
      .first()
      .getByRole('button', { name: /^View / })
      .click();
    await expect(page.getByRole('dialog').getByTestId('viewer-start').textContent()).resolves.toMatch(
      new RegExp(`${photoId}, redrawn 60%, outside mask ${mask.id}`),
    );
    // reused, the drawing comes back as it was: over the photo, inside-out of its mask, at its own size
    await page.getByRole('dialog').getByRole('button', { name: 'Reuse settings' }).click();
    await page.getByTestId('start-image').getByText('dog-wide.png').waitFor();
    await expect(page.getByTestId('redraw-mask').isChecked()).resolves.toBe(true);
    await expect(page.getByTestId('redraw-invert').isChecked()).resolves.toBe(true);
    await expect(page.getByRole('spinbutton', { name: 'Width' }).inputValue()).resolves.toBe('64');
    await expect(page.getByRole('spinbutton', { name: 'Height' }).inputValue()).resolves.toBe('64');
    await page.getByTestId('start-clear').click();
    await page.getByTestId('start-pick').waitFor();
  });

  it('logged no script errors or CSP violations', () => {
    expect(session.problems).toEqual([]);
  });
});
