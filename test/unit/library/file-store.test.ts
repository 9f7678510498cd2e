import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore, sha256Of } from '../../../src-main/library/file-store.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('FileStore', () => {
  it('names files by their sha256 and stores equal content once', async () => {
    const store = new FileStore(tmpDir());
    const bytes = Buffer.from('hello library');
    const a = await store.put(bytes);
    const b = await store.put(Buffer.from('hello library'));
    expect(a.sha256).toBe(sha256Of(bytes));
    expect(b).toEqual(a);
    expect(store.list().map((f) => f.sha256)).toEqual([a.sha256]);
    expect((await store.read(a.sha256)).toString()).toBe('hello library');
  });

  it('leaves neither a partial file nor a temp file when the write fails', async () => {
    const root = tmpDir();
    const store = new FileStore(root);
    const bytes = Buffer.from('will not land');
    const sha = sha256Of(bytes);
    // a file where the shard folder should be makes the final rename fail
    writeFileSync(join(root, sha.slice(0, 2)), 'in the way');
    await expect(store.put(bytes)).rejects.toThrow();
    expect(existsSync(store.pathOf(sha))).toBe(false);
    expect(readdirSync(join(root, '.tmp', String(process.pid)))).toEqual([]);
  });

  it("sweeps only dead writers' temp files: a live process's write in flight stays", () => {
    const root = tmpDir();
    const store = new FileStore(root);
    const tmp = join(root, '.tmp');
    for (const pid of ['4001', '4002']) {
      mkdirSync(join(tmp, pid));
      writeFileSync(join(tmp, pid, 'half-written'), 'partial');
    }
    writeFileSync(join(tmp, String(process.pid), 'mine'), 'in flight');
    writeFileSync(join(tmp, 'loose-from-an-older-version'), 'partial');
    expect(store.clearTemp((pid) => pid === 4001)).toBe(2);
    expect(readdirSync(tmp).sort()).toEqual(['4001', String(process.pid)].sort());
    expect(readdirSync(join(tmp, '4001'))).toEqual(['half-written']);
    expect(readdirSync(join(tmp, String(process.pid)))).toEqual(['mine']);
  });

  it('tolerates another process sweeping the same dead folder at the same moment', () => {
    const root = tmpDir();
    const store = new FileStore(root);
    const tmp = join(root, '.tmp');
    for (const pid of ['5001', '5002']) mkdirSync(join(tmp, pid));
    // while this process looks at one dead folder, "another process" removes the other one
    const otherSweeps = (pid: number) => (rmSync(join(tmp, pid === 5001 ? '5002' : '5001'), { recursive: true, force: true }), false);
    expect(() => store.clearTemp(otherSweeps)).not.toThrow();
    expect(readdirSync(tmp)).toEqual([String(process.pid)]);
  });

  it('refuses names that are not digests (no path tricks)', () => {
    const store = new FileStore(tmpDir());
    expect(() => store.pathOf('../../etc/passwd')).toThrow(/Not a sha256/);
  });

  it('reports a missing file as not-found', async () => {
    const store = new FileStore(tmpDir());
    await expect(store.read('a'.repeat(64))).rejects.toMatchObject({ code: 'not-found' });
  });
});
