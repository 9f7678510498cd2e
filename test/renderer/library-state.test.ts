// The Library screen's state against a fake main side: it loads, follows change events while the screen is
// there and stops when it goes, deletes what the person confirmed, and says what an import did.
import { describe, expect, it } from 'vitest';
import { LibraryState } from '../../src-renderer/src/lib/state/library.svelte.js';
import { notifications } from '../../src-renderer/src/lib/state/notifications.svelte.js';
import { FakeTransport, settle } from './fake-transport.js';

const image = (id: string, name: string) => ({ id, name, sha256: 'a'.repeat(64), thumbSha256: 'b'.repeat(64) });
const concept = (id: string, name: string) => ({ id, name, classWord: 'dog', tags: [] });

function fakeLibrary() {
  let images = [image('img_000001', 'dog.jpg')];
  const fake = new FakeTransport({
    'library.list': () => ({ images, concepts: [concept('con_000001', 'Rex')] }),
    'models.list': () => [],
    'library.deleteImage': (input) => {
      images = images.filter((i) => i.id !== (input as { id: string }).id);
      return { removedFiles: 2 };
    },
    'images.import': () => ({
      results: [
        { status: 'imported', name: 'a.jpg', image: image('img_000002', 'a.jpg') },
        { status: 'duplicate', name: 'b.jpg', image: image('img_000001', 'dog.jpg') },
        { status: 'failed', name: 'c.txt', error: { code: 'unsupported-image', message: 'not an image' } },
      ],
    }),
  });
  return fake;
}

describe('LibraryState', () => {
  it('loads, refreshes on a change event, and stops listening once destroyed', async () => {
    const fake = fakeLibrary();
    const library = new LibraryState();
    expect(library.loading).toBe(true);
    await settle();
    expect(library.loading).toBe(false);
    expect(library.images.map((i) => i.name)).toEqual(['dog.jpg']);
    expect(library.concepts.map((c) => c.name)).toEqual(['Rex']);
    expect(library.isEmpty).toBe(false);
    expect(fake.listenerCount).toBe(1);

    fake.emit('library', 'onChanged', {});
    await settle();
    expect(fake.callsOf('library.list')).toHaveLength(2);

    library.destroy();
    expect(fake.listenerCount).toBe(0);
    fake.emit('library', 'onChanged', {});
    await settle();
    expect(fake.callsOf('library.list')).toHaveLength(2);
  });

  it('a screen visited twice leaves one listener, not two', async () => {
    const fake = fakeLibrary();
    const first = new LibraryState();
    first.destroy();
    const second = new LibraryState();
    await settle();
    expect(fake.listenerCount).toBe(1);
    second.destroy();
  });

  it('deletes only what the person confirmed, then shows the library without it', async () => {
    const fake = fakeLibrary();
    const library = new LibraryState();
    await settle();
    await library.confirmDelete(); // nothing pending: nothing deleted
    expect(fake.callsOf('library.deleteImage')).toEqual([]);
    library.pendingDelete = { kind: 'image', record: library.images[0]! };
    await library.confirmDelete();
    expect(fake.callsOf('library.deleteImage')).toEqual([{ id: 'img_000001' }]);
    expect(library.images).toEqual([]);
    expect(library.pendingDelete).toBeNull();
    expect(notifications.items.at(-1)).toMatchObject({ kind: 'success', text: 'Deleted dog.jpg.' });
    library.destroy();
  });

  it('reports each file of an import: imported, already there, refused with its reason', async () => {
    fakeLibrary();
    const library = new LibraryState();
    await settle();
    const before = notifications.items.length;
    await library.importFiles([new File(['x'], 'a.jpg'), new File(['y'], 'b.jpg'), new File(['z'], 'c.txt')]);
    expect(notifications.items.slice(before).map((n) => `${n.kind}: ${n.text}`)).toEqual([
      'success: Imported 1 photo.',
      'info: b.jpg is already in the library.',
      'error: c.txt: not an image',
    ]);
    expect(library.importing).toBe(false);
    library.destroy();
  });

  it('shows why the library could not load', async () => {
    new FakeTransport({
      'library.list': () => {
        throw new Error('The library folder is not readable.');
      },
      'models.list': () => [],
    });
    const library = new LibraryState();
    await settle();
    expect(library.loadError).toBe('The library folder is not readable.');
    library.destroy();
  });
});
