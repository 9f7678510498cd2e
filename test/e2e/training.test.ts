import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { probeProviders } from '../../src-main/system/providers.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTinyClipVision, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe('Training screen in Chromium (tiny SD, tiny CLIP encoder)', { timeout: 180_000 }, () => {
  let root: string;
  let dataDir: string;
  let session: AppSession;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-training-'));
    dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    const [imported] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg'))]);
    if (imported?.status !== 'imported') throw new Error('fixture import failed');
    const { id, width, height } = imported.image;
    const mask = await sharp({ create: { width, height, channels: 3, background: '#000' } })
      .composite([
        {
          input: Buffer.from(
            `<svg width="${width}" height="${height}"><ellipse cx="${width / 2}" cy="${height / 2}" rx="${width / 3}" ry="${height / 2.5}" fill="#fff"/></svg>`,
          ),
        },
      ])
      .png()
      .toBuffer();
    await library.masks.save({ imageId: id, classWord: 'dog', png: mask, source: 'manual' });
    await installFromPath(library, writeTinySingleFile(join(root, 'tiny-sd.safetensors')), { name: 'tiny SD' });
    await installFromPath(library, writeTinyClipVision(join(root, 'tiny-clip')), { name: 'tiny CLIP', family: 'clip' });
    library.close();
    session = await openApp(dataDir, { width: 1440, height: 900 });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const custom = async (values: Record<string, string>) => {
    await page.getByText('Custom', { exact: true }).click();
    const box = page.getByTestId('custom-settings');
    for (const [label, value] of Object.entries(values)) await box.getByLabel(label, { exact: true }).fill(value);
    await box.getByLabel('Image encoder').selectOption({ label: 'CLIP: tiny CLIP' });
    // a device that cannot start here is offered disabled, with the doctor's reason (as Settings says)
    for (const p of await probeProviders()) {
      const option = box.getByLabel('Device').locator(`option[value="${p.name}"]`);
      await expect(option.isDisabled()).resolves.toBe(!p.usable);
      await expect(option.textContent()).resolves.toMatch(p.usable ? /^[^—]+$/ : /— not usable here$/);
    }
  };

  it('starts a run from the form and shows its losses moving on the chart and its previews appearing', async () => {
    await page.getByRole('link', { name: 'Training', exact: true }).click();
    await page.getByRole('heading', { name: 'No runs yet' }).waitFor();
    await page.getByTestId('run-form').getByText('dog v1').waitFor();
    // 32² latents: a few hundred ms a step, long enough to watch
    await custom({
      'Stage I steps': '12',
      'Stage II steps': '6',
      Batch: '2',
      'Latent size': '32',
      'Checkpoint every': '4',
      'Stage I lr': '0.001',
      'Stage II lr': '0.001',
      'Preview steps': '4',
    });
    // a setting out of range: said in words naming the field, the field marked, no step count on the button
    const steps1 = page.getByTestId('custom-settings').getByLabel('Stage I steps', { exact: true });
    await steps1.fill('99999');
    await page.getByRole('alert').getByText('Stage I steps must be at most 10000.', { exact: true }).waitFor();
    await expect(steps1.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByTestId('start-run').textContent()).resolves.toBe('Start');
    await expect(page.getByTestId('start-run').isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'training-invalid-setting.png') });
    await steps1.fill('12');
    await expect(steps1.getAttribute('aria-invalid')).resolves.toBe('false');
    await expect(page.getByTestId('start-run').textContent()).resolves.toBe('Start (18 steps)');
    // test prompts: a prompt without the concept is refused before anything starts
    const prompts = page.getByTestId('test-prompts');
    await prompts.getByLabel('Test prompt 2', { exact: true }).fill('a marble statue');
    await page.getByText("Test prompt 2: a preview prompt needs the concept's placeholder *").waitFor();
    await expect(page.getByTestId('start-run').isDisabled()).resolves.toBe(true);
    await prompts.getByLabel('Test prompt 2', { exact: true }).fill('* {class} as a marble statue');
    await prompts.getByLabel('Preview every N steps').fill('4');
    await page.getByRole('textbox', { name: /Name/ }).fill('Rex');
    await page.getByTestId('start-run').click();
    const chart = page.getByTestId('loss-chart');
    await chart.waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 4, null, { timeout: 60_000 });
    await expect(page.getByTestId('run-state').textContent()).resolves.toBe('Training');
    await expect(page.getByTestId('run-detail').textContent()).resolves.toMatch(/Stage I · step \d+ of 18 · .*(steps\/s|s\/step)/);
    // the previews of step 4 appear (both prompts), drawn images the browser decodes
    const previews = page.getByTestId('previews');
    await previews.getByText('step 4', { exact: true }).first().waitFor({ timeout: 60_000 });
    await expect(previews.getByText('a photo of * dog', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(previews.getByText('* dog as a marble statue', { exact: true }).isVisible()).resolves.toBe(true);
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid=preview-image]')).some((i) => i.complete && i.naturalWidth === 64),
    );
    await expect(page.getByTestId('run-memory').textContent()).resolves.toMatch(/[\d.]+ [MG]B after the last step/);
    await page.evaluate(() => document.querySelector('.content')?.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'training-mid-run.png'), fullPage: true });
    const before = Number(await chart.getAttribute('data-points'));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > n, before, { timeout: 30_000 });
  });

  it('queues a second run behind it, cancels it, then the first finishes and its concept is in the Library', async () => {
    await custom({ 'Stage I steps': '3', 'Stage II steps': '0', Batch: '1', 'Latent size': '8' });
    await page.getByRole('textbox', { name: /Name/ }).fill('Second');
    await expect(page.getByTestId('start-run').textContent()).resolves.toMatch(/Add to queue/);
    await page.getByTestId('start-run').click();
    await page.getByTestId('run-detail').getByRole('heading', { name: 'Second' }).waitFor();
    await expect(page.getByTestId('run-state').textContent()).resolves.toBe('Waiting in the queue');
    // a third one waits behind it; moved up, it is the next to run
    await page.getByRole('textbox', { name: /Name/ }).fill('Third');
    await page.getByTestId('start-run').click();
    await page.getByTestId('run-detail').getByRole('heading', { name: 'Third' }).waitFor();
    const table = page.getByTestId('runs-table');
    const stateOf = (name: string) => table.locator('tr', { hasText: name }).locator('.state').textContent();
    await expect.poll(() => stateOf('Second')).toBe('queued #1');
    await expect(stateOf('Third')).resolves.toBe('queued #2');
    await table.getByRole('button', { name: 'Move Third up the queue' }).click();
    await expect.poll(() => stateOf('Third')).toBe('queued #1');
    await expect(stateOf('Second')).resolves.toBe('queued #2');
    await expect(table.getByRole('button', { name: 'Move Third up the queue' }).isDisabled()).resolves.toBe(true);
    const queuedNow = Library.open(dataDir, { reconcile: false });
    expect(queuedNow.runs.queued().map((r) => r.name)).toEqual(['Third', 'Second']);
    queuedNow.close();
    // a waiting run is cancelled without a question: nothing of it is lost
    await page.getByTestId('cancel-run').click();
    await page.getByTestId('run-state').getByText('Cancelled').waitFor();
    await table.getByRole('button', { name: 'Second' }).click();
    await page.getByTestId('run-detail').getByRole('heading', { name: 'Second' }).waitFor();
    await page.getByTestId('cancel-run').click();
    await page.getByTestId('run-state').getByText('Cancelled').waitFor();
    // back to the first run, which finishes
    await page.getByTestId('runs-table').getByRole('button', { name: 'Rex' }).click();
    await page.getByTestId('run-state').getByText('Finished').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('runs-table').textContent()).resolves.toMatch(
      /Third\s*cancelled\s*0\/3[\s\S]*Second\s*cancelled\s*0\/3[\s\S]*Rex\s*done\s*18\/18/,
    );
    // the finished concept's previews close the strip; one opens larger
    await page.getByTestId('previews').getByText('finished (step 18)').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'training-finished.png'), fullPage: true });
    // the hover readout says each term as it is: no L_sm in Stage I, 0 at Stage II's first step (B = 0), then a value
    const plot = page.getByTestId('loss-chart').locator('.u-over');
    const box = (await plot.boundingBox())!;
    const readout = page.getByTestId('loss-chart').locator('.u-legend .u-series');
    const lSmAt = new Map<string, string>();
    for (let i = 0; i <= 60; i++) {
      await page.mouse.move(box.x + (box.width * i) / 60, box.y + box.height / 2);
      lSmAt.set((await readout.first().locator('.u-value').textContent())!, (await readout.filter({ hasText: 'L_sm' }).locator('.u-value').textContent())!);
    }
    expect([lSmAt.get('5'), lSmAt.get('13')]).toEqual(['—', '0']);
    expect(lSmAt.get('18')).toMatch(/^\d[\d.e-]*$/);
    await page.getByRole('button', { name: 'a photo of * dog, finished (step 18): open larger' }).click();
    await page
      .getByRole('dialog', { name: 'Preview' })
      .getByText(/finished \(step 18\) · seed 0/)
      .waitFor();
    await page.keyboard.press('ArrowLeft');
    await page
      .getByRole('dialog', { name: 'Preview' })
      .getByText(/step 16 · seed 0/)
      .waitFor();
    await page.getByRole('dialog', { name: 'Preview' }).getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Open the concept' }).click();
    await page.getByTestId('library-card').filter({ hasText: 'Rex' }).waitFor();
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.concepts.list().map((c) => c.name)).toEqual(['Rex']);
    library.close();
  });

  it("shows the concept's details (photo, mask, model, settings, losses), renames and tags it, and filters by tag", async () => {
    const detail = page.getByTestId('concept-detail');
    await detail.waitFor();
    // the detail reads its run, mask and model after it opens: wait for them before reading its text
    await detail.getByText('Mask dog v1').waitFor();
    await detail.getByText(/Stage I 12 steps at 0\.001/).waitFor();
    await expect(detail.textContent()).resolves.toMatch(/Rex[\s\S]*Mask dog v1[\s\S]*Base model\s*tiny SD[\s\S]*Stage I 12 steps at 0\.001, Stage II 6/);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=concept-detail] [data-testid=loss-chart]')?.getAttribute('data-points')) === 18,
    );
    // its thumbnail is drawn with the concept (not the photo's), in the detail and on its card
    const library0 = Library.open(dataDir, { reconcile: false });
    const [made] = library0.concepts.list();
    const photoThumb = library0.images.get(made!.imageId!).thumbSha256;
    library0.close();
    expect(made!.thumbSha256).not.toBe(photoThumb);
    await expect(detail.getByTestId('concept-drawn').getAttribute('src')).resolves.toContain(made!.thumbSha256!);
    await expect(page.getByTestId('library-card').filter({ hasText: 'Rex' }).locator('img').getAttribute('src')).resolves.toContain(made!.thumbSha256!);
    await expect(detail.getByTestId('preview-image').count()).resolves.toBe(10); // 2 prompts at steps 4, 8, 12, 16, 18
    await detail.getByLabel('Name').fill('Rex the corgi');
    await detail.getByLabel(/Tags/).fill('Pets, summer, pets');
    await detail.getByLabel('Notes').fill('From the garden photo.');
    await detail.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved Rex the corgi.').waitFor();
    await page.getByTestId('library-card').filter({ hasText: 'pets, summer' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'concept-detail.png') });
    await page.getByRole('combobox', { name: 'Tag' }).selectOption('summer');
    await expect(page.getByTestId('concept-grid').getByTestId('library-card').count()).resolves.toBe(1);
    await page.getByRole('searchbox', { name: 'Search concepts' }).fill('cat');
    await page.getByText('No concept matches.').waitFor();
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.concepts.list()).toMatchObject([{ name: 'Rex the corgi', tags: ['pets', 'summer'], notes: 'From the garden photo.' }]);
    expect(library.runs.list().map((r) => [r.name, r.state])).toEqual([
      ['Third', 'cancelled'],
      ['Second', 'cancelled'],
      ['Rex', 'succeeded'],
    ]);
    library.close();
  });

  it('exports the concept for A1111 from its detail view and says what to type', async () => {
    await page.getByRole('combobox', { name: 'Tag' }).selectOption('');
    await page.getByRole('searchbox', { name: 'Search concepts' }).fill('');
    const exporter = page.getByTestId('concept-export');
    await exporter.getByText('Use it in another tool').click();
    await exporter.getByRole('button', { name: 'Export' }).click();
    await expect(exporter.getByTestId('export-prompt').textContent()).resolves.toMatch(/^rex-the-corgi dog, <lora:rex-the-corgi-lora:1>/);
    await expect(exporter.textContent()).resolves.toMatch(/exports\/rex-the-corgi\.safetensors[\s\S]*exports\/rex-the-corgi-lora\.safetensors/);
    // web mode: the files come to the browser as downloads, the same bytes the export wrote
    const downloads = exporter.getByTestId('export-downloads');
    await downloads.getByRole('link', { name: 'rex-the-corgi-lora.safetensors' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), downloads.getByRole('link', { name: 'rex-the-corgi-lora.safetensors' }).click()]);
    expect(download.suggestedFilename()).toBe('rex-the-corgi-lora.safetensors');
    const saved = join(root, 'downloaded-lora.safetensors');
    await download.saveAs(saved);
    expect(readFileSync(saved).equals(readFileSync(join(dataDir, 'exports', 'rex-the-corgi-lora.safetensors')))).toBe(true);
  });

  it('asks before stopping a running run, says "stopping" at once, and then gives one step count everywhere', async () => {
    await page.getByRole('link', { name: 'Training', exact: true }).click();
    await custom({ 'Stage I steps': '40', 'Stage II steps': '0', Batch: '1', 'Latent size': '32', 'Checkpoint every': '50' });
    await page.getByTestId('test-prompts').getByLabel('Preview every N steps').fill('0');
    await page.getByRole('textbox', { name: /Name/ }).fill('Long');
    await page.getByTestId('start-run').click();
    await page.getByTestId('run-detail').getByRole('heading', { name: 'Long' }).waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 2, null, { timeout: 60_000 });
    // Start scrolled the run into view: its progress is on screen
    const detailTop = await page.getByTestId('run-detail').evaluate((el) => el.getBoundingClientRect().top);
    expect(detailTop).toBeLessThan(800);
    await page.getByTestId('cancel-run').click();
    const dialog = page.getByRole('dialog', { name: 'Stop Long?' });
    await dialog.getByText(/It stops after the step it is taking \(now step \d+ of 40\) and keeps every step/).waitFor();
    await dialog.getByRole('button', { name: 'Keep training' }).click();
    await expect(page.getByTestId('run-state').textContent()).resolves.toBe('Training');
    await page.getByTestId('cancel-run').click();
    await page.getByRole('dialog', { name: 'Stop Long?' }).getByRole('button', { name: 'Stop the run' }).click();
    // at once, before the step ends
    await page.getByTestId('cancel-run').getByText('Stopping after this step…').waitFor({ timeout: 2000 });
    await page.getByTestId('run-state').getByText('Cancelled').waitFor({ timeout: 60_000 });
    const where = (await page.getByTestId('run-where').textContent())!;
    const [, step] = /^stopped after step (\d+) of 40 \(Stage I\), all saved$/.exec(where) ?? [];
    expect(step, where).toBeDefined();
    await expect(page.getByTestId('resume-run').textContent()).resolves.toBe(`Resume from step ${step}`);
    await page
      .getByTestId('run-error')
      .getByText(`Training cancelled after step ${step} of 40 (Stage I); resume it to go on from step ${step}, its last checkpoint.`)
      .waitFor();
    // the run's end is said once, in the same count
    await page.getByTestId('toast').getByText(`"Long" was cancelled after step ${step} of 40; resume it from step ${step}.`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'training-cancelled.png') });
  });

  it('logged no script errors or CSP violations', () => {
    expect(session.problems).toEqual([]);
  });
});
