import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { maskFromPng } from '../../src-main/pipeline/mask/sam-engine.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** The mask as the page shows it: which overlay pixels are painted (alpha > 0). */
const shownMask = (page: Page) =>
  page.getByTestId('mask-overlay').evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const on: number[] = [];
    for (let i = 0; i < c.width * c.height; i++) if (data[i * 4 + 3]! > 0) on.push(i);
    return { width: c.width, height: c.height, count: on.length, checksum: on.reduce((s, i) => (s * 31 + i) % 1_000_000_007, 7) };
  });

const idle = (page: Page) => page.waitForFunction(() => !document.querySelector('.busy'), null, { timeout: 60_000 });
/** The studio has read this photo's saved mask and draft (before that the canvas may still hold the last photo's), and waits for the person. */
const opened = async (page: Page, imageId: string) => {
  await page.locator(`.mask-studio[data-loaded-photo="${imageId}"]`).waitFor({ timeout: 60_000 });
  await idle(page);
};

describe('Mask studio in Chromium (web mode)', { timeout: 60_000 }, () => {
  let root: string;
  let dataDir: string;
  let imageId: string;
  let otherId: string;
  let session: AppSession;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-mask-'));
    dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    const [result, other] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg')), photoFromPath(fixtureImage('cat_00.jpg'))]);
    imageId = result!.status === 'imported' ? result!.image.id : '';
    otherId = other!.status === 'imported' ? other!.image.id : '';
    library.close();
    session = await openApp(dataDir);
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('opens the photo from the Library and segments the dog with one click, made while SAM still prepares', async () => {
    await page.getByTestId('library-card').filter({ hasText: 'dog_00.jpg' }).getByRole('button', { name: 'Mask it', exact: true }).click();
    await page.getByTestId('mask-overlay').waitFor();
    // the first embedding takes seconds on a CPU: the click is shown at once and answered when SAM is ready
    await page.getByText(/Preparing the photo for clicks/).waitFor();
    expect((await shownMask(page)).count).toBe(0);
    const box = (await page.getByTestId('mask-overlay').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect(page.getByTestId('queued-point').count()).resolves.toBe(1);
    await page.waitForFunction(() => !/covers 0\.0%/.test(document.querySelector('[data-testid=mask-coverage]')!.textContent!));
    await idle(page);
    const shown = await shownMask(page);
    expect(shown.width).toBe(780);
    expect(shown.count / (780 * 780)).toBeGreaterThan(0.3);
    await page.screenshot({ path: join(ARTIFACTS, 'mask-studio-dog.png') });
  });

  it('paints with the brush, and undo takes the stroke back', async () => {
    const before = await shownMask(page);
    await page.keyboard.press('b');
    const box = (await page.getByTestId('mask-overlay').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + 20 + i * 10, box.y + 20 + i * 3);
    await page.mouse.up();
    const painted = await shownMask(page);
    expect(painted.count).toBeGreaterThan(before.count + 500);
    await page.keyboard.press('Control+z');
    expect(await shownMask(page)).toEqual(before);
    await page.keyboard.press('Control+Shift+z');
    expect((await shownMask(page)).count).toBe(painted.count);
    await page.keyboard.press('Control+z');
  });

  it('saves the mask as a version; after a reload the same mask is shown, and the file matches it', async () => {
    const shown = await shownMask(page);
    await page.getByTestId('class-word').fill('dog');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByTestId('mask-saved').getByText('Saved the dog mask, version 1.').waitFor();
    await page.reload();
    await opened(page, imageId);
    await page.waitForFunction(() => !/covers 0\.0%/.test(document.querySelector('[data-testid=mask-coverage]')!.textContent!));
    expect(await shownMask(page)).toEqual(shown);
    await expect(page.getByTestId('class-word').inputValue()).resolves.toBe('dog');

    const library = Library.open(dataDir, { reconcile: false });
    const [saved] = library.masks.list(imageId);
    const { mask } = await maskFromPng(await library.store.read(saved!.sha256));
    library.close();
    expect(saved).toMatchObject({ classWord: 'dog', version: 1, source: 'sam' });
    expect(mask.reduce((n, v) => n + (v > 0 ? 1 : 0), 0)).toBe(shown.count);
    await page.screenshot({ path: join(ARTIFACTS, 'mask-studio-reloaded.png') });
  });

  it('keeps Undo and Save in view with every tool at 1280×720, 1440×900 and 1024×700, and lists saved versions there', async () => {
    for (const size of [
      { width: 1280, height: 720 },
      { width: 1440, height: 900 },
      { width: 1024, height: 700 },
    ]) {
      await page.setViewportSize(size);
      for (const key of ['v', 'x', 'b', 'e']) {
        await page.keyboard.press(key);
        for (const name of ['Undo', 'Save']) {
          const button = page.getByRole('button', { name, exact: true });
          // in the window and not hidden under a scrolled panel: the button is what the page has at its centre
          const shown = await button.evaluate((el) => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return r.bottom <= window.innerHeight && r.right <= window.innerWidth && (hit === el || el.contains(hit));
          });
          expect(shown, `${name} with tool ${key} at ${size.width}×${size.height}`).toBe(true);
        }
      }
      await page.screenshot({ path: join(ARTIFACTS, `mask-studio-${size.width}x${size.height}.png`) });
    }
    await expect(page.getByLabel('Saved versions').locator('option').allTextContents()).resolves.toEqual([
      'Load a saved version…',
      expect.stringMatching(/^dog v1 · sam · /),
    ]);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('shows the shortcuts on ?, and Escape closes them', async () => {
    await page.keyboard.press('Shift+?');
    const sheet = page.getByRole('dialog', { name: 'Mask studio shortcuts' });
    await sheet.waitFor();
    await expect(sheet.textContent()).resolves.toContain('Ctrl+Shift+Z or Ctrl+Y');
    await page.screenshot({ path: join(ARTIFACTS, 'mask-studio-shortcuts.png') });
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
  });

  it('starts the next photo with its own class word, not the last one', async () => {
    const strip = page.getByRole('navigation', { name: 'Photos' });
    await strip.getByAltText('cat_00.jpg').click();
    await page.waitForFunction((id) => location.hash.includes(id), otherId);
    await opened(page, otherId);
    await expect(page.getByTestId('class-word').inputValue()).resolves.toBe('');
    // the strip marks which photos have a mask, and under which class word
    await expect(strip.getByRole('button', { name: /dog_00\.jpg/ }).getAttribute('title')).resolves.toBe('dog_00.jpg — masked as dog');
    await expect(strip.getByRole('button', { name: /cat_00\.jpg/ }).getAttribute('title')).resolves.toBe('cat_00.jpg — no mask yet');
    await strip.getByAltText('dog_00.jpg').click();
    await opened(page, imageId);
    await expect(page.getByTestId('class-word').inputValue()).resolves.toBe('dog');
  });

  it('keeps an unsaved mask across a trip to the Library and a reload, and asks before leaving it', async () => {
    const saved = await shownMask(page);
    await page.keyboard.press('b');
    const box = (await page.getByTestId('mask-overlay').boundingBox())!;
    await page.mouse.move(box.x + 10, box.y + box.height - 10);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 10 + i * 12, box.y + box.height - 10 - i * 2);
    await page.mouse.up();
    const edited = await shownMask(page);
    expect(edited.count).toBeGreaterThan(saved.count + 500);
    await page.getByTestId('mask-unsaved').waitFor();
    // leaving asks; Stay stays
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    const ask = page.getByRole('dialog', { name: 'Save the mask first?' });
    await ask.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'mask-studio-leave-unsaved.png') });
    await ask.getByTestId('leave-stay').click();
    expect(new URL(page.url()).hash).toBe(`#/masks/${imageId}`);
    await expect(page.getByRole('heading', { name: 'Mask studio' }).isVisible()).resolves.toBe(true);
    // leave, keeping the draft: the Library shows, and the way back finds the mask as it was left
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await ask.getByTestId('leave-keep-draft').click();
    await page.getByTestId('image-grid').waitFor();
    await page.getByRole('link', { name: 'Mask studio', exact: true }).click();
    await opened(page, imageId);
    await page.getByTestId('mask-unsaved').waitFor();
    expect(await shownMask(page)).toEqual(edited);
    await page.getByTestId('toast').getByText('Your unsaved mask of dog_00.jpg is back, as you left it.').waitFor();
    // a reload finds it too; Undo goes back to the saved version
    await page.reload();
    await opened(page, imageId);
    await page.getByTestId('mask-unsaved').waitFor();
    expect(await shownMask(page)).toEqual(edited);
    await page.keyboard.press('Control+z');
    expect(await shownMask(page)).toEqual(saved);
    await page.keyboard.press('Control+Shift+z');
    // Discard drops it for good
    await page.getByTestId('discard-mask').click();
    await idle(page);
    await page.getByTestId('mask-unsaved').waitFor({ state: 'detached' });
    expect(await shownMask(page)).toEqual(saved);
    await page.reload();
    await opened(page, imageId);
    expect(await shownMask(page)).toEqual(saved);
    await expect(page.getByTestId('mask-unsaved').count()).resolves.toBe(0);
  });

  it('says a missing class word at the field (no message over the buttons), then saving offers "Train this"', async () => {
    await page.getByRole('navigation', { name: 'Photos' }).getByAltText('cat_00.jpg').click();
    await opened(page, otherId);
    const box = (await page.getByTestId('mask-overlay').boundingBox())!;
    await page.keyboard.press('v');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => !/covers 0\.0%/.test(document.querySelector('[data-testid=mask-coverage]')!.textContent!));
    await idle(page);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText(/Name the concept.s class \(face, hair, dog…\) before saving/)
      .waitFor();
    await expect(page.getByTestId('class-word').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByTestId('toast').count()).resolves.toBe(0);
    await page.getByTestId('class-word').fill('cat');
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByTestId('mask-saved').getByText('Saved the cat mask, version 1.').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'mask-studio-saved-next-step.png') });
    await page.getByTestId('train-this').click();
    // the training form takes the photo just masked, with its mask
    const form = page.getByTestId('run-form');
    await form.getByRole('option', { name: /cat_00\.jpg/, selected: true }).waitFor();
    await form.getByText('cat v1').waitFor();
    expect(new URL(page.url()).hash).toBe('#/training');
  });

  it('logged no script errors or CSP violations', () => {
    expect(session.problems).toEqual([]);
  });
});
