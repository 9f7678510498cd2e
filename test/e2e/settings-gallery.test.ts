import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';
import { writeKohyaLora } from '../helpers/random-concept.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { type AppSession, openApp } from './app-session.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe('Settings (models) and Gallery in Chromium', { timeout: 60_000 }, () => {
  let root: string;
  let dataDir: string;
  let modelPath: string;
  let session: AppSession;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'si-e2e-settings-'));
    dataDir = join(root, 'library');
    modelPath = writeTinySingleFile(join(root, 'tiny-sd.safetensors'));
    const library = Library.open(dataDir);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    await library.generations.add({ prompt: 'a blue square', negative: '', settings: { steps: 1 }, modelId: null, png });
    library.close();
    session = await openApp(dataDir);
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('installs a model picked with the file picker and lists it with its family', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    // the picker opens at the folder typed in the box and fills the box with the file picked
    await page.getByTestId('model-source').fill(dirname(modelPath));
    await page.getByRole('button', { name: 'File…' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a file' });
    await expect(picker.getByTestId('picker-path').textContent()).resolves.toBe(dirname(modelPath));
    await page.screenshot({ path: join(ARTIFACTS, 'settings-path-picker.png') });
    await picker.getByRole('button', { name: basename(modelPath) }).click();
    await picker.waitFor({ state: 'detached' });
    await expect(page.getByTestId('model-source').inputValue()).resolves.toBe(modelPath);
    await page.getByRole('button', { name: 'Add model' }).click();
    await page.getByText('Installed tiny-sd.safetensors (sd1).').waitFor({ timeout: 30_000 });
    const panel = page.getByTestId('models-panel');
    await expect(panel.textContent()).resolves.toMatch(/tiny-sd\.safetensors\s*sd1.*referenced in place/);
    await page.screenshot({ path: join(ARTIFACTS, 'settings-models.png') });
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.models.list().map((m) => [m.family, m.path])).toEqual([['sd1', modelPath]]);
    library.close();
  });

  it('refuses a path that is not a model, with the reason', async () => {
    await page.getByTestId('model-source').fill(join(root, 'nothing-here'));
    await page.getByRole('button', { name: 'Add model' }).click();
    await page.getByText(/No file or folder at/).waitFor();
    // the message sits in the sidebar (over nothing of the screen), belongs to Settings, and stays in the list
    const toast = page.getByTestId('toast').filter({ hasText: 'No file or folder at' });
    const box = (await toast.boundingBox())!;
    const content = (await page.locator('.content').boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(content.x);
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await toast.waitFor({ state: 'detached' });
    await page.getByTestId('notifications-button').click();
    await page
      .getByTestId('notification-list')
      .getByText(/No file or folder at/)
      .waitFor();
    await page.getByRole('button', { name: 'Close the list' }).click();
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
  });

  it('says a wrong sha256 or address at its field, in words, before anything is sent', async () => {
    await page.getByTestId('model-source').fill('https://models.example/sd15.safetensors');
    await page.getByRole('textbox', { name: 'sha256' }).fill('abc123');
    const alert = page.getByRole('alert');
    await alert.getByText('The sha256 has 6 characters; it is 64 hexadecimal ones (0–9, a–f). Leave it empty to skip the check.').waitFor();
    await expect(page.getByRole('textbox', { name: 'sha256' }).getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByRole('button', { name: 'Add model' }).isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'settings-model-invalid.png') });
    await page.getByRole('textbox', { name: 'sha256' }).fill('');
    await page.getByTestId('model-source').fill('https://');
    await alert.getByText('The address is not a whole URL (https://host/path/model.safetensors).').waitFor();
    await expect(page.getByTestId('model-source').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByTestId('model-source').fill('');
    await alert.waitFor({ state: 'detached' });
  });

  it('scans an A1111 folder and makes a style concept of a LoRA found there ("Use as concept")', async () => {
    const loras = join(root, 'webui', 'models', 'Lora');
    mkdirSync(loras, { recursive: true });
    writeKohyaLora(join(loras, 'ink.safetensors'), 5, 8);
    await page.getByLabel('Folder to scan').fill(join(root, 'webui'));
    await page.getByRole('button', { name: 'Scan folder' }).click();
    await page.getByText(/Scanned .*webui: 1 added/).waitFor({ timeout: 20_000 });
    const row = page.getByTestId('models-panel').getByRole('row').filter({ hasText: 'ink.safetensors' });
    await row.getByRole('button', { name: 'Use as concept' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a concept' });
    await expect(dialog.getByLabel('Name').inputValue()).resolves.toBe('ink');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported ink as a concept.').waitFor({ timeout: 20_000 });
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.concepts.list().map((c) => [c.name, c.kind])).toEqual([['ink', 'style']]);
    library.close();
  });

  it('asks before removing a model, saying its files stay where they are', async () => {
    const row = page.getByTestId('models-panel').getByRole('row').filter({ hasText: 'ink.safetensors' });
    await row.getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove ink.safetensors?' });
    await expect(dialog.textContent()).resolves.toMatch(
      /Only the entry goes: its files stay at .*ink\.safetensors\. No concept in the library was learned on it\./,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'settings-remove-model.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(row.count()).resolves.toBe(1);
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog', { name: 'Remove ink.safetensors?' }).getByRole('button', { name: 'Remove' }).click();
    await page.getByText(/Removed ink\.safetensors; its files stay at/).waitFor();
    await expect(row.count()).resolves.toBe(0);
    expect(existsSync(join(root, 'webui', 'models', 'Lora', 'ink.safetensors'))).toBe(true);
  });

  it('shows generated images in the Gallery and deletes one after confirmation', async () => {
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    const card = page.getByTestId('gallery-card').filter({ hasText: 'a blue square' });
    await card.waitFor();
    await card.hover();
    await card.getByRole('button', { name: 'Delete a blue square' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'No generated images' }).waitFor();
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.generations.list()).toEqual([]);
    library.close();
  });

  it('logged no script errors or CSP violations', () => {
    expect(session.problems.filter((p) => !/No file or folder/.test(p))).toEqual([]);
  });
});
