import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { RENDERER_DIR } from '../../src-main/server/content.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { probeAdapters } from '../../src-main/system/gpu-adapters.js';
import { probeGpus } from '../../src-main/system/gpu-probe.js';
import { probeProviders } from '../../src-main/system/providers.js';
import { chooseDevice } from '../../src-main/system/device-choice.js';
import { writeSafetensors } from '../../src-main/weights/safetensors.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeKohyaLora } from '../helpers/random-concept.js';
import { tmpDir } from '../helpers/tmp.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe('Library in Chromium, against `npm start` in web mode', () => {
  let session: AppSession;
  let page: Page;
  let dataRoot: string | undefined;
  let dataDir: string;
  /** The library as the app process wrote it (SQLite in WAL mode is safe to read from a second process). */
  const inLibrary = <T>(read: (library: Library) => T): T => {
    const library = Library.open(dataDir, { reconcile: false });
    try {
      return read(library);
    } finally {
      library.close();
    }
  };

  beforeAll(async () => {
    if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error('The renderer is not built: run `npm run build` first (npm test does).');
    mkdirSync(ARTIFACTS, { recursive: true });
    // not tmpDir(): that one is removed after each test, and this library lives for the whole file
    dataRoot = mkdtempSync(join(tmpdir(), 'si-e2e-'));
    dataDir = join(dataRoot, 'library');
    session = await openApp(dataDir, { width: 1200, height: 760 });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
  });

  it('starts empty, with the token taken out of the address bar', async () => {
    await page.getByRole('heading', { name: 'No photos yet' }).waitFor();
    expect(page.url()).not.toContain('token=');
    // the way from a photo to an image, the first step next
    await expect(page.getByTestId('library-path').textContent()).resolves.toMatch(
      /^\s*1\. Import a photo\s*2\. Mask it\s*3\. Add a Stable Diffusion model\s*4\. Train the concept\s*5\. Draw images with it\s*$/,
    );
  });

  it('imports a real photo through the file picker and shows its thumbnail', async () => {
    await page.getByTestId('import-input').setInputFiles(fixtureImage('dog_00.jpg'));
    const card = page.getByTestId('library-card').filter({ hasText: 'dog_00.jpg' });
    await card.waitFor({ timeout: 15_000 });
    await expect(card.textContent()).resolves.toContain('780×780 · JPEG');
    const thumb = card.locator('img');
    await thumb.evaluate((img: HTMLImageElement) => (img.complete ? null : new Promise((r) => (img.onload = r))));
    expect(await thumb.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([384, 384]);
    await page.getByText('Imported 1 photo.').waitFor();
    // its next step is on the card, and on the path
    await expect(card.getByRole('button', { name: 'Mask it', exact: true }).isVisible()).resolves.toBe(true);
    await page.getByTestId('library-path').getByText('1. Import a photo ✓').waitFor();
    await expect(page.getByTestId('library-path').getByRole('link', { name: '2. Mask it' }).getAttribute('href')).resolves.toMatch(/^#\/masks\/img_/);
    await page.screenshot({ path: join(ARTIFACTS, 'library-imported.png') });
    expect(inLibrary((l) => l.images.list().map((i) => i.name))).toEqual(['dog_00.jpg']);
  });

  it('imports by drag and drop too, and says so when a photo is already there', async () => {
    const bytes = readFileSync(fixtureImage('dog_00.jpg')).toString('base64');
    const dataTransfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], 'dog-again.jpg', { type: 'image/jpeg' }));
      return dt;
    }, bytes);
    const region = page.getByRole('region', { name: 'Library' });
    await region.dispatchEvent('dragenter', { dataTransfer });
    await page.getByText('Drop photos, or concept files (.siconcept, embeddings, LoRAs), to import').waitFor();
    await region.dispatchEvent('drop', { dataTransfer });
    await page.getByText('dog-again.jpg is already in the library.').waitFor();
    expect(inLibrary((l) => l.images.list())).toHaveLength(1);
  });

  it('shows a clear error for a corrupt file and stores nothing', async () => {
    const broken = join(tmpDir(), 'broken.jpg');
    writeFileSync(broken, readFileSync(fixtureImage('cat_00.jpg')).subarray(0, 2000));
    await page.getByTestId('import-input').setInputFiles(broken);
    await page.getByText(/broken\.jpg: The image could not be decoded/).waitFor();
    expect(inLibrary((l) => l.images.list())).toHaveLength(1);
  });

  it('deletes the photo after confirmation, removing its files', async () => {
    const card = page.getByTestId('library-card').filter({ hasText: 'dog_00.jpg' });
    await card.hover();
    await card.getByRole('button', { name: 'Delete dog_00.jpg' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('heading').textContent()).resolves.toBe('Delete dog_00.jpg?');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'No photos yet' }).waitFor();
    expect(inLibrary((l) => l.images.list())).toEqual([]);
    expect(inLibrary((l) => l.store.list())).toEqual([]);
  });

  it('imports concepts from other tools: a LoRA alone as a style (picker), an embedding with its LoRA as a dog (drag and drop)', async () => {
    // files as A1111 / kohya write them, for SD 1.5's real layers (rank 4, random values)
    const dir = tmpDir();
    const loraPath = writeKohyaLora(join(dir, 'watercolour.safetensors'), 9);
    await page.getByTestId('concept-import-input').setInputFiles(loraPath);
    const dialog = page.getByRole('dialog', { name: 'Import a concept' });
    await dialog.waitFor();
    await expect(dialog.getByLabel('Name').inputValue()).resolves.toBe('watercolour');
    await page.screenshot({ path: join(ARTIFACTS, 'concept-import.png') });
    await dialog.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported watercolour as a concept.').waitFor({ timeout: 20_000 });
    const card = page.getByTestId('library-card').filter({ hasText: 'watercolour' });
    await expect(card.textContent()).resolves.toContain('style (LoRA)');
    expect(inLibrary((l) => l.concepts.list().map((c) => [c.name, c.kind, c.classWord]))).toEqual([['watercolour', 'style', 'style']]);

    // an embedding and its LoRA dropped together: the dialog asks what it is
    writeSafetensors(join(dir, 'rex.safetensors'), { emb_params: { dtype: 'F32', shape: [1, 768], data: new SeededRandom(9).normalArray(768) } });
    const files = [join(dir, 'rex.safetensors'), loraPath].map((p) => ({ name: p.split('/').pop()!, b64: readFileSync(p).toString('base64') }));
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      return dt;
    }, files);
    const region = page.getByRole('region', { name: 'Library' });
    await region.dispatchEvent('dragenter', { dataTransfer });
    await region.dispatchEvent('drop', { dataTransfer });
    await dialog.waitFor();
    await dialog.getByLabel('What is it?').fill('dog');
    await dialog.getByLabel('Name').fill('Rex');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported Rex as a concept.').waitFor({ timeout: 20_000 });
    expect(
      inLibrary((l) =>
        l.concepts
          .list()
          .map((c) => [c.name, c.kind, c.classWord])
          .sort(),
      ),
    ).toEqual([
      ['Rex', 'subject', 'dog'],
      ['watercolour', 'style', 'style'],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'concepts-imported.png') });
  });

  it('shows the GPU report and execution providers in Settings', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const providers = page.getByTestId('providers-panel');
    await providers.getByRole('row', { name: /^cpu/ }).getByText('ran a test kernel').waitFor({ timeout: 15_000 });
    // every provider as the probe finds it on this machine (WebGPU is usable where a Vulkan driver is installed)
    for (const p of await probeProviders()) {
      const cells = providers.getByRole('row', { name: new RegExp(`^${p.name}`) }).locator('td');
      await expect(cells.allTextContents()).resolves.toEqual([p.usable ? 'usable' : 'not usable', p.detail]);
    }
    // what the probe found on this machine: the driver, or why there is none
    const gpu = await probeGpus();
    await expect(page.getByTestId('gpu-panel').textContent()).resolves.toContain(gpu.nvidia ? `NVIDIA driver ${gpu.driverVersion ?? 'unknown'}` : gpu.reason!);
    // the device: auto says what it picks here and why; a choice is kept for the next visit
    const device = page.getByTestId('device-panel');
    const choice = await chooseDevice('auto');
    await expect(device.textContent()).resolves.toContain(`Best available here: ${choice.label}`);
    // each adapter with what the plan and the precision rule read from it
    for (const a of probeAdapters().adapters) {
      const row = device.getByRole('row', { name: new RegExp(`^${a.name.replace(/[()]/g, '\\$&')}`) });
      await expect(row.textContent()).resolves.toMatch(a.float16 ? /computes in float16/ : /float32 only/);
      if (a.freeBytes !== null) await expect(row.textContent()).resolves.toMatch(/device memory \([\d.]+ GiB free\)/);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'settings.png') });
    await device.getByRole('combobox').selectOption('cpu');
    await device.getByText("A run's own device setting still wins").waitFor();
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await expect(page.getByTestId('device-panel').getByRole('combobox').inputValue()).resolves.toBe('cpu');
    await page.getByTestId('device-panel').getByRole('combobox').selectOption('auto');
    await page.getByTestId('device-panel').getByText('Best available here').waitFor();
  });

  it('a tab opened without the token shows only how to get back in, never an empty library', async () => {
    const context = await page.context().browser()!.newContext();
    try {
      const stranger = await context.newPage();
      stranger.on('console', () => {}); // its refused calls are expected here
      for (const path of ['/', '/#/compose', '/#/training']) {
        await stranger.goto(new URL(page.url()).origin + path);
        const help = stranger.getByTestId('sign-in-help');
        await help.getByText(/This page has no access token\. Open the address SingleInsert Studio printed in its terminal/).waitFor();
        await help.getByText('Your library is safe').waitFor();
        // nothing of the app's screens, whose empty states would read as a wiped library
        await expect(stranger.getByRole('navigation', { name: 'Screens' }).count()).resolves.toBe(0);
        await expect(stranger.getByText(/No photos yet|No Stable Diffusion model yet|No concepts yet|No runs yet/).count()).resolves.toBe(0);
      }
      // a token the server refuses (it restarted with a new one) leads to the same help
      await stranger.goto(new URL(page.url()).origin + '/?token=stale');
      await stranger.getByTestId('sign-in-help').waitFor();
      await expect(stranger.getByRole('navigation', { name: 'Screens' }).count()).resolves.toBe(0);
      await stranger.screenshot({ path: join(ARTIFACTS, 'web-mode-no-token.png') });
    } finally {
      await context.close();
    }
  });

  it('logged no script errors or CSP violations', () => {
    expect(session.problems).toEqual([]);
  });
});
