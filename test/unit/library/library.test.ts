import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Of } from '../../../src-main/library/file-store.js';
import { Library, type NewImage } from '../../../src-main/library/library.js';
import { tmpDir } from '../../helpers/tmp.js';

function fakeImage(seed: string): { input: NewImage; files: { image: Buffer; thumb: Buffer } } {
  const image = Buffer.from(`image ${seed}`);
  const thumb = Buffer.from(`thumb ${seed}`);
  return {
    input: {
      name: `${seed}.png`,
      sourceSha256: sha256Of(Buffer.from(`source ${seed}`)),
      sourceFormat: 'png',
      sourceWidth: 10,
      sourceHeight: 8,
      image: { sha256: sha256Of(image), size: image.length, mime: 'image/png', width: 10, height: 8 },
      thumb: { sha256: sha256Of(thumb), size: thumb.length, mime: 'image/webp' },
    },
    files: { image, thumb },
  };
}

function addConcept(library: Library, imageId: string | null, weights: Buffer): string {
  const sha = sha256Of(weights);
  return library.db.transaction(() => {
    library.db.prepare("INSERT INTO blobs VALUES (?, ?, 'application/octet-stream', 'now')").run(sha, weights.length);
    library.db
      .prepare(
        "INSERT INTO concepts (id, name, class_word, token, image_id, status, embedding_sha256, created_at) VALUES ('con_aaaaaaaa', 'Rex', 'dog', '<rex>', ?, 'ready', ?, 'now')",
      )
      .run(imageId, sha);
    return 'con_aaaaaaaa';
  })();
}

describe('Library', () => {
  it('adds an image with its files, and finds the same source again instead of storing it twice', async () => {
    const library = Library.open(tmpDir());
    const { input, files } = fakeImage('a');
    const first = await library.images.add(input, files);
    const second = await library.images.add(input, files);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ image: first.image, duplicate: true });
    expect(library.images.list()).toHaveLength(1);
    expect(library.store.list()).toHaveLength(2);
    library.close();
  });

  it('deleting an image removes its rows and its files', async () => {
    const library = Library.open(tmpDir());
    const { input, files } = fakeImage('a');
    const { image } = await library.images.add(input, files);
    expect(await library.images.delete(image.id)).toEqual({ removedFiles: 2 });
    expect(library.images.list()).toEqual([]);
    expect(library.store.list()).toEqual([]);
    expect(library.stats()).toEqual({ images: 0, concepts: 0, storeBytes: 0 });
    library.close();
  });

  it('deleting a concept removes its weight files but keeps the photo', async () => {
    const library = Library.open(tmpDir());
    const { input, files } = fakeImage('a');
    const { image } = await library.images.add(input, files);
    const weights = Buffer.from('embedding bytes');
    await library.store.put(weights);
    const conceptId = addConcept(library, image.id, weights);
    expect(library.concepts.list().map((c) => c.id)).toEqual([conceptId]);
    expect(await library.concepts.delete(conceptId)).toEqual({ removedFiles: 1 });
    expect(existsSync(library.store.pathOf(sha256Of(weights)))).toBe(false);
    expect(library.images.list()).toHaveLength(1);
    library.close();
  });

  it('deleting an image keeps concepts learned from it, unlinked', async () => {
    const library = Library.open(tmpDir());
    const { input, files } = fakeImage('a');
    const { image } = await library.images.add(input, files);
    const weights = Buffer.from('embedding bytes');
    await library.store.put(weights);
    addConcept(library, image.id, weights);
    await library.images.delete(image.id);
    expect(library.concepts.list()[0]!.imageId).toBeNull();
    expect(existsSync(library.store.pathOf(sha256Of(weights)))).toBe(true);
    library.close();
  });

  it('after a crash, reconcile removes temp files and files no row points at, and keeps the rest', async () => {
    const dir = tmpDir();
    const library = Library.open(dir);
    const { input, files } = fakeImage('kept');
    const { image } = await library.images.add(input, files);
    // a crash after the file was written but before its rows were committed
    const orphan = await library.store.put(Buffer.from('orphan'));
    // a crash during a write (a process that is gone: pid 2³¹−2 runs nowhere)
    mkdirSync(join(dir, 'store', '.tmp', String(2 ** 31 - 2)));
    writeFileSync(join(dir, 'store', '.tmp', String(2 ** 31 - 2), 'half-written'), 'partial');
    // a crash after the rows were deleted but before the files were
    library.db.prepare("INSERT INTO blobs VALUES (?, 3, 'x', 'now')").run('b'.repeat(64));
    library.close();

    const old = new Date(Date.now() - 3600_000);
    utimesSync(library.store.pathOf(orphan.sha256), old, old);
    const reopened = Library.open(dir, { reconcile: false });
    const report = reopened.reconcile();
    expect(report.tempFilesRemoved).toBe(1);
    expect(report.orphanFilesRemoved).toBe(1);
    expect(report.unreferencedRowsRemoved).toBe(1);
    expect(report.missingFiles).toEqual([]);
    expect(existsSync(reopened.store.pathOf(orphan.sha256))).toBe(false);
    expect(reopened.images.get(image.id).name).toBe('kept.png');
    expect(reopened.store.list()).toHaveLength(2);
    reopened.close();
  });

  it('reconcile leaves young unreferenced files alone (another process may be importing them)', async () => {
    const library = Library.open(tmpDir());
    const young = await library.store.put(Buffer.from('in flight'));
    expect(library.reconcile().orphanFilesRemoved).toBe(0);
    expect(library.reconcile({ orphanMinAgeMs: 0 }).orphanFilesRemoved).toBe(1);
    expect(existsSync(library.store.pathOf(young.sha256))).toBe(false);
    library.close();
  });
});
