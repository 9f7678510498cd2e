// The path picker's state against a fake main side: it opens at the box's path (a file's folder), walks
// folders, and hands back the file or folder picked.
import { describe, expect, it } from 'vitest';
import { PathBrowser } from '../../src-renderer/src/lib/state/path-browser.svelte.js';
import { FakeTransport } from './fake-transport.js';

const FOLDERS: Record<string, { parent: string | null; entries: Array<{ name: string; kind: 'folder' | 'file' }> }> = {
  '/home/ana': { parent: '/home', entries: [{ name: 'models', kind: 'folder' }] },
  '/home/ana/models': {
    parent: '/home/ana',
    entries: [
      { name: 'sd15', kind: 'folder' },
      { name: 'v1-5.safetensors', kind: 'file' },
    ],
  },
  '/home/ana/models/sd15': { parent: '/home/ana/models', entries: [] },
};

function fakeDisk() {
  return new FakeTransport({
    'system.browse': (input) => {
      const path = (input as { path?: string }).path ?? '/home/ana';
      const folder = FOLDERS[path];
      if (!folder) throw new Error(`No folder at ${path}.`);
      return { path, parent: folder.parent, truncated: false, entries: folder.entries.map((e) => ({ ...e, path: `${path}/${e.name}`, size: 0 })) };
    },
  });
}

describe('PathBrowser', () => {
  it('opens at the folder of the file in the box, and a file picked fills the box', async () => {
    fakeDisk();
    const browser = new PathBrowser();
    let picked = '';
    await browser.open('file', '/home/ana/models/old.safetensors', (p) => (picked = p));
    expect(browser.isOpen).toBe(true);
    expect(browser.listing?.path).toBe('/home/ana/models');
    await browser.choose(browser.listing!.entries[1]!);
    expect(picked).toBe('/home/ana/models/v1-5.safetensors');
    expect(browser.isOpen).toBe(false);
  });

  it('walks into folders and picks the one on show when a folder is wanted', async () => {
    fakeDisk();
    const browser = new PathBrowser();
    let picked = '';
    await browser.open('folder', '', (p) => (picked = p));
    expect(browser.listing?.path).toBe('/home/ana');
    await browser.choose(browser.listing!.entries[0]!);
    await browser.choose(browser.listing!.entries[0]!);
    expect(browser.listing?.path).toBe('/home/ana/models/sd15');
    await browser.go(browser.listing!.parent!);
    browser.pickCurrent();
    expect(picked).toBe('/home/ana/models');
  });

  it('says why a folder cannot be shown', async () => {
    fakeDisk();
    const browser = new PathBrowser();
    await browser.open('folder', '', () => {});
    expect(await browser.go('/mnt/gone')).toBe(false);
    expect(browser.error).toBe('No folder at /mnt/gone.');
    expect(browser.listing?.path).toBe('/home/ana'); // the folder on show stays
    browser.close();
  });
});
