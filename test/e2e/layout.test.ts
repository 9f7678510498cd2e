// Every screen at 1280×800 and 1024×700, with a library that has something on each (photos, a mask, a learned
// concept with its run and previews, a drawn image): the page never scrolls sideways, the primary action of each
// screen is in view and not covered, names are not cut, and nothing floats over a screen's controls. The
// screenshots are the ones looked at for the layout.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { createRun, runInThisProcess } from '../../src-main/pipeline/learn/learning-service.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { TINY_VISION } from '../helpers/tiny-singleinsert.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
] as const;

/** What must hold on any screen: no sideways scroll of the page or of a panel, and no element past the window's right edge. */
async function expectNothingCut(page: Page, where: string): Promise<void> {
  const problems = await page.evaluate(() => {
    const out: string[] = [];
    const content = document.querySelector<HTMLElement>('.content')!;
    if (content.scrollWidth > content.clientWidth + 1) {
      // name the innermost elements that stick out, so the message says what to fix
      const edge = content.getBoundingClientRect().right;
      const scrolls = (el: Element) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
      const clipped = (el: Element) => {
        for (let a = el.parentElement; a && a !== content; a = a.parentElement) if (scrolls(a)) return true;
        return false;
      };
      const wide = Array.from(content.querySelectorAll<HTMLElement>('*')).filter((el) => el.getBoundingClientRect().right > edge + 1 && !clipped(el));
      const innermost = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o))).slice(0, 3);
      out.push(
        `the screen scrolls sideways (${content.scrollWidth} > ${content.clientWidth}): ${innermost.map((el) => `${el.tagName.toLowerCase()}.${el.className}`).join(', ')}`,
      );
    }
    // an element is cut when it reaches past an ancestor that clips without scrolling, or past the window
    const clipsWithoutScroll = (el: Element) => {
      const s = getComputedStyle(el);
      return s.overflowX === 'hidden' || s.overflowX === 'clip';
    };
    for (const el of Array.from(content.querySelectorAll<HTMLElement>('button, a, label, h1, h2, select, input, .chip-name, .draft-mark, .busy'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (el.closest('.preview-strip, .region-canvas, .canvas-wrap, .mask-canvas, .photo-strip, .concept-strip, details:not([open])')) continue;
      if (r.right > window.innerWidth + 1) out.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" goes past the window`);
      for (let a = el.parentElement; a && a !== content; a = a.parentElement) {
        if (!clipsWithoutScroll(a)) continue;
        const c = a.getBoundingClientRect();
        if (r.right > c.right + 1 || r.left < c.left - 1)
          out.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" is cut by ${a.className || a.tagName}`);
        break;
      }
      // a button whose words do not fit inside it
      if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1) out.push(`the button "${(el.textContent ?? '').trim().slice(0, 40)}" is cut`);
      // text cut with an ellipsis (a name that no longer tells things apart)
      if (el.classList.contains('chip-name') && el.scrollWidth > el.clientWidth + 1) out.push(`the chip name "${el.textContent}" is cut`);
    }
    return out;
  });
  expect(problems, where).toEqual([]);
}

/** In the window, and what the page has at its centre (nothing over it). */
async function expectInViewUncovered(button: Locator, where: string): Promise<void> {
  const shown = await button.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return { inView: r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth, uncovered: hit === el || el.contains(hit) };
  });
  expect(shown, where).toEqual({ inView: true, uncovered: true });
}

describe('Every screen at 1280×800 and 1024×700', { timeout: 300_000 }, () => {
  let root: string;
  let session: AppSession;
  let page: Page;
  let imageId: string;
  let conceptId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-layout-'));
    const dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    const [dog] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg')), photoFromPath(fixtureImage('cat_00.jpg'))]);
    if (dog?.status !== 'imported') throw new Error('fixture import failed');
    imageId = dog.image.id;
    const { width, height } = dog.image;
    const mask = await discMaskPng(width, height);
    await library.masks.save({ imageId, classWord: 'dog', png: mask, source: 'manual' });
    const model = await installFromPath(library, writeTinySingleFile(join(root, 'tiny-sd.safetensors')), { name: 'tiny SD' });
    // a learned concept, with its run: losses and two rows of previews (the strips that once ran off sideways)
    const run = await createRun(
      library,
      {
        imageId,
        classWord: 'dog',
        model: model.id,
        name: 'Rex the corgi from the garden',
        settings: {
          steps1: 6,
          steps2: 4,
          batch: 1,
          latentSize: 8,
          lr1: 1e-3,
          lr2: 1e-3,
          previewEvery: 1,
          previewSteps: 2,
          previewPrompts: ['a photo of * {class}', '* {class} as a marble statue'],
        },
      },
      { officialEncoder: TINY_VISION },
    );
    const done = await runInThisProcess(library, run.id, { officialEncoder: TINY_VISION });
    conceptId = done.conceptId!;
    const hat = readFileSync(writeRandomConcept(join(root, 'hat.safetensors'), 2, 'hat'));
    await library.concepts.add({ name: 'Straw hat with a long ribbon', classWord: 'hat', imageId: null, maskId: null, baseModelId: model.id, file: hat });
    library.close();
    session = await openApp(dataDir, SIZES[0]);
    page = session.page;
    // one drawn image for the Gallery (and a result on Compose), through the screen itself
    await page.goto(`${page.url().split('#')[0]}#/compose/${conceptId}`);
    await page.getByTestId('concept-chips').getByText('Rex the corgi from the garden').waitFor();
    await page.getByRole('spinbutton', { name: 'Width' }).fill('64');
    await page.getByRole('spinbutton', { name: 'Height' }).fill('64');
    await page.getByLabel('Steps').fill('3');
    await page.getByTestId('generate').click();
    await page.getByTestId('compose-results').waitFor({ timeout: 60_000 });
    await page.getByTestId('strip-concept').filter({ hasText: 'Straw hat' }).click();
    await page.getByRole('combobox', { name: 'Sampler' }).selectOption('euler');
  });

  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const size of SIZES) {
    const at = `${size.width}x${size.height}`;

    it(`lays out every screen at ${size.width}×${size.height}`, async () => {
      await page.setViewportSize(size);

      await page.getByRole('link', { name: 'Library', exact: true }).click();
      await page.getByTestId('image-grid').waitFor();
      await page.getByTestId('library-path').waitFor();
      await expectNothingCut(page, `Library at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-library-${at}.png`) });

      await page.getByTestId('library-card').filter({ hasText: 'Rex the corgi' }).getByRole('button', { name: 'Details' }).click();
      await page.getByTestId('concept-detail').getByText('Mask dog v1').waitFor();
      await expectNothingCut(page, `Concept detail at ${at}`);
      await expectInViewUncovered(page.getByTestId('concept-use-in-compose'), `Use in Compose at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-concept-${at}.png`) });

      await page.getByRole('link', { name: 'Mask studio', exact: true }).click();
      await page.getByTestId('mask-overlay').waitFor();
      await page.waitForFunction(() => !document.querySelector('.busy'), null, { timeout: 60_000 });
      await expectNothingCut(page, `Mask studio at ${at}`);
      await expectInViewUncovered(page.getByRole('button', { name: 'Save', exact: true }), `mask Save at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-masks-${at}.png`) });

      await page.getByRole('link', { name: 'Training', exact: true }).click();
      await page.getByTestId('run-detail').waitFor();
      await page.getByText('Custom', { exact: true }).click();
      await page.getByTestId('custom-settings').waitFor();
      await expectNothingCut(page, `Training at ${at}`);
      // the long custom form keeps Start in view
      await expectInViewUncovered(page.getByTestId('start-run'), `Start at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-training-${at}.png`) });
      await page.evaluate(() => document.querySelector('.content')!.scrollTo(0, 1e6));
      await expectInViewUncovered(page.getByTestId('start-run'), `Start, scrolled down, at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-training-scrolled-${at}.png`) });
      await page.getByText('Faithful', { exact: true }).click();

      await page.getByRole('link', { name: 'Compose', exact: true }).click();
      await page.getByTestId('chip-*2').waitFor();
      // the screen opens at its top, not where Training was scrolled to
      await expect(page.evaluate(() => document.querySelector('.content')!.scrollTop)).resolves.toBe(0);
      await expectNothingCut(page, `Compose at ${at}`);
      const karras = page.getByText('Karras sigmas');
      const box = page.locator('label.karras input');
      const [text, check] = [(await karras.boundingBox())!, (await box.boundingBox())!];
      // the checkbox sits on its words' line, just before them
      expect(Math.abs(text.y + text.height / 2 - (check.y + check.height / 2)), `Karras at ${at}`).toBeLessThan(6);
      expect(text.x - (check.x + check.width), `Karras at ${at}`).toBeLessThan(16);
      await expectInViewUncovered(page.getByTestId('generate'), `Generate at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-compose-${at}.png`) });

      await page.getByRole('link', { name: 'Gallery', exact: true }).click();
      await page.getByTestId('gallery-card').first().waitFor();
      await expectNothingCut(page, `Gallery at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-gallery-${at}.png`) });

      await page.getByRole('link', { name: 'Settings', exact: true }).click();
      await page.getByTestId('device-panel').waitFor();
      await expectNothingCut(page, `Settings at ${at}`);
      await page.screenshot({ path: join(ARTIFACTS, `layout-settings-${at}.png`) });
    });
  }

  it('logged no script errors or CSP violations', () => {
    expect(session.problems).toEqual([]);
  });
});
