// The concept report card in Chromium (tiny SD and tiny metric networks): a stored report in the concept's detail
// view with the paper's figures beside it and its images by prompt, a new one measured from the screen as a job,
// the two side by side, and the report saved as CSV.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { evaluateConcept } from '../../src-main/pipeline/evaluate/evaluate-concept.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTinyClipModel, writeTinyDino, writeTinyLpips, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe('Report card in Chromium (tiny SD, tiny CLIP, DINO and LPIPS)', { timeout: 300_000 }, () => {
  let root: string;
  let dataDir: string;
  let session: AppSession;
  let page: Page;
  let conceptId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-report-'));
    dataDir = join(root, 'library');
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await runCli(['import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir], quiet, {})).toBe(0);
    const library = Library.open(dataDir);
    try {
      const model = await installFromPath(library, writeTinySingleFile(join(root, 'tiny-sd.safetensors')), { name: 'tiny SD' });
      await installFromPath(library, writeTinyClipModel(join(root, 'clip')), { name: 'tiny CLIP' });
      await installFromPath(library, writeTinyDino(join(root, 'dino')), { name: 'tiny DINO' });
      await installFromPath(library, writeTinyLpips(join(root, 'lpips.safetensors')), { name: 'tiny LPIPS' });
      const image = library.images.list()[0]!;
      const mask = await library.masks.save({ imageId: image.id, classWord: 'dog', png: await discMaskPng(image.width, image.height), source: 'manual' });
      const file = readFileSync(writeRandomConcept(join(root, 'rex.safetensors'), 5, 'dog'));
      conceptId = (await library.concepts.add({ name: 'Rex', classWord: 'dog', imageId: image.id, maskId: mask.id, baseModelId: model.id, file })).id;
      await evaluateConcept(library, {
        conceptId,
        model: model.id,
        set: 'default',
        label: 'Fast',
        provider: 'cpu',
        overrides: { prompts: 2, seeds: 2, steps: 2 },
      });
    } finally {
      library.close();
    }
    session = await openApp(dataDir, { width: 1280, height: 800 });
    page = session.page;
  });
  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('shows the stored report: each metric beside the paper’s, the images by prompt, how it was measured', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + `#/library/${conceptId}`);
    const card = page.getByTestId('report-card');
    await card.getByTestId('report-metrics').waitFor();
    const rows = card.getByTestId('report-metrics').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(7);
    const clipIF = (await rows.filter({ hasText: 'CLIP-I-f' }).locator('td').allTextContents()).map((t) => t.trim());
    expect(clipIF[1]).toMatch(/^-?\d\.\d{3}$/);
    expect(clipIF[2]).toBe('0.857');
    await expect(card.getByTestId('report-grid').locator('.report-row').count()).resolves.toBe(2);
    await expect(card.getByTestId('report-grid').locator('img').count()).resolves.toBe(4);
    await expect(card.getByTestId('report-grid').textContent()).resolves.toContain('* dog on the beach');
    await expect(card.getByTestId('report-facts').textContent()).resolves.toMatch(/2 prompts × 2 seeds .* DPM\+\+ 2M Karras\s+2 steps/);
    await expect(card.getByTestId('report-facts').textContent()).resolves.toMatch(/An edit succeeds when/);
    // every metric model is installed: nothing is said to be missing
    await expect(card.getByTestId('report-missing-models').count()).resolves.toBe(0);
  });

  it('measures a new report from the screen as a job, then sets the two side by side', async () => {
    const card = page.getByTestId('report-card');
    await card.getByTestId('report-label').fill('Faithful');
    await card.getByTestId('report-measure').click();
    await card.getByTestId('report-progress').waitFor({ timeout: 30_000 });
    await card.getByTestId('report-select').locator('option', { hasText: 'Faithful' }).waitFor({ state: 'attached', timeout: 240_000 });
    await expect(card.getByTestId('report-select').inputValue()).resolves.toMatch(/^evl_/);
    await page.getByText(/Report card for "Rex" \(Faithful\): ready\./).waitFor();
    // the default set: 4 prompts × 2 seeds
    await expect(card.getByTestId('report-grid').locator('img').count()).resolves.toBe(8);
    const fast = await card.getByTestId('report-compare').locator('option', { hasText: 'Fast' }).getAttribute('value');
    await card.getByTestId('report-compare').selectOption(fast!);
    await card.getByTestId('report-metrics').locator('thead th', { hasText: 'Difference' }).waitFor();
    const head = (await card.getByTestId('report-metrics').locator('thead th').allTextContents()).map((t) => t.trim());
    expect(head).toEqual(['Metric', 'Faithful', 'Fast', 'Difference', 'Paper (Stage II)', 'What it says']);
    const div = (await card.getByTestId('report-metrics').locator('tbody tr').filter({ hasText: 'DIV' }).locator('td').allTextContents()).map((t) => t.trim());
    expect(div[3]).toMatch(/^[+-]\d\.\d{3}$/);
    await card.getByTestId('report-metrics').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'report-card-compare.png') });
    await card.getByTestId('report-grid').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'report-card-grid.png') });
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').split('\n');
    expect(csv[0]).toMatch(/^row,prompt,seed,CLIP-I-f/);
    expect(csv.filter((l) => l.startsWith('image,'))).toHaveLength(8);
    expect(session.problems).toEqual([]);
  });
});
