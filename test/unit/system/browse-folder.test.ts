import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browseFolder } from '../../../src-main/system/browse-folder.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('browseFolder (the path picker)', () => {
  it('lists folders first, then files with their sizes, leaving hidden entries and dangling links out', () => {
    const root = tmpDir();
    mkdirSync(join(root, 'models'));
    mkdirSync(join(root, 'Loras'));
    writeFileSync(join(root, 'b.safetensors'), Buffer.alloc(1234));
    writeFileSync(join(root, 'a.ckpt'), '');
    writeFileSync(join(root, '.hidden'), '');
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    symlinkSync(join(root, 'models'), join(root, 'linked-models'));
    const listing = browseFolder(root);
    expect(listing.path).toBe(root);
    expect(listing.entries.map((e) => [e.name, e.kind, e.size])).toEqual([
      ['linked-models', 'folder', 0],
      ['Loras', 'folder', 0],
      ['models', 'folder', 0],
      ['a.ckpt', 'file', 0],
      ['b.safetensors', 'file', 1234],
    ]);
    expect(listing.parent).toBe(join(root, '..'));
    expect(browseFolder('/').parent).toBeNull();
    expect(browseFolder().path).toBe(homedir());
  });

  it('refuses what is not a readable folder, saying why', () => {
    const root = tmpDir();
    writeFileSync(join(root, 'file.txt'), '');
    expect(() => browseFolder(join(root, 'nope'))).toThrow(/^No folder at .*nope\.$/);
    expect(() => browseFolder(join(root, 'file.txt'))).toThrow(/is a file, not a folder/);
    expect(() => browseFolder('relative/path')).toThrow(/is not an absolute path/);
  });
});
