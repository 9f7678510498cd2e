// The Gallery's search, order and boards from the command line, on images stored in a real library: the same
// query the Gallery screen runs (queryGallery), and boards kept in the library across processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationRecord } from '../../src-preload/contract/index.js';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';

describe('singleinsert gallery', () => {
  let root: string;
  let dataDir: string;
  const ids: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-gallery-'));
    dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    for (const [i, prompt] of ['a photo of * dog', '* dog as a marble statue', 'a red barn in the snow'].entries()) {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: i * 80, g: 0, b: 0 } } })
        .png()
        .toBuffer();
      const row = await library.generations.add({ prompt, negative: '', settings: { seed: 100 + i }, modelId: null, png });
      ids.push(row.id);
      await new Promise((r) => setTimeout(r, 5)); // distinct times: newest first is an order
    }
    library.generations.setFavorite(ids[0]!, true);
    library.close();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([...args, '--data-dir', dataDir], { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
    return { code, out, err };
  }
  const listed = async (...args: string[]) =>
    (JSON.parse((await cli('gallery', 'list', ...args, '--json')).out[0]!) as GenerationRecord[]).map((g) => g.prompt);

  it('lists newest first, searches every word, and sorts favourites first', async () => {
    await expect(listed()).resolves.toEqual(['a red barn in the snow', '* dog as a marble statue', 'a photo of * dog']);
    await expect(listed('--sort', 'oldest')).resolves.toEqual(['a photo of * dog', '* dog as a marble statue', 'a red barn in the snow']);
    await expect(listed('--sort', 'favourites')).resolves.toEqual(['a photo of * dog', 'a red barn in the snow', '* dog as a marble statue']);
    await expect(listed('--search', 'DOG marble')).resolves.toEqual(['* dog as a marble statue']);
    await expect(listed('--favourites')).resolves.toEqual(['a photo of * dog']);
    const wrong = await cli('gallery', 'list', '--sort', 'random');
    expect(wrong.code).toBe(2);
    expect(wrong.err.join('\n')).toMatch(/--sort is one of newest, oldest, favourites \(got "random"\)/);
  });

  it('puts images on boards and takes them off; the boards are kept in the library', async () => {
    expect((await cli('gallery', 'board', ids[0]!, '--add', 'cast: Rex', '--add', 'keepers')).out).toEqual([`${ids[0]} is on "cast: Rex", "keepers".`]);
    expect((await cli('gallery', 'board', ids[1]!, '--add', 'cast: Rex')).code).toBe(0);
    await expect(listed('--board', 'cast: Rex')).resolves.toEqual(['* dog as a marble statue', 'a photo of * dog']);
    // a board's name is searched too
    await expect(listed('--search', 'keepers')).resolves.toEqual(['a photo of * dog']);
    expect((await cli('gallery', 'boards')).out).toEqual(['cast: Rex\t2 images', 'keepers\t1 image']);
    expect((await cli('gallery', 'board', ids[0]!, '--remove', 'keepers')).out).toEqual([`${ids[0]} is on "cast: Rex".`]);
    const library = Library.open(dataDir, { reconcile: false });
    expect(library.generations.get(ids[0]!).boards).toEqual(['cast: Rex']);
    // deleting an image takes it off its boards
    await library.generations.delete(ids[1]!);
    expect(library.generations.boards()).toEqual([{ name: 'cast: Rex', count: 1 }]);
    library.close();
    const bad = await cli('gallery', 'board', ids[0]!, '--add', ' ');
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/a board needs a name/);
  });
});
