import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UploadStore } from '../../../src-main/api/upload-store.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('upload store', () => {
  it("keeps another live server's uploads, removes those of ended ones", () => {
    const root = tmpDir();
    for (const pid of ['5001', '5002']) {
      mkdirSync(join(root, pid));
      writeFileSync(join(root, pid, 'upl_0123456789abcdef0123'), 'photo');
    }
    new UploadStore(root, undefined, (pid) => pid === 5001);
    expect(readdirSync(root).sort()).toEqual(['5001', String(process.pid)].sort());
  });

  it('expires uploads never imported and refuses one over the quota', async () => {
    const root = tmpDir();
    const store = new UploadStore(root, { expireMs: 60_000, quotaBytes: 10 });
    const first = await store.save(Buffer.from('123456'));
    await expect(store.save(Buffer.from('123456'))).rejects.toMatchObject({
      code: 'too-large',
      message: expect.stringMatching(/already hold 0 MB; import or wait/),
    });
    // an hour later the first one has expired: room again
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(root, String(process.pid), first), old, old);
    const second = await store.save(Buffer.from('123456'));
    expect(existsSync(join(root, String(process.pid), first))).toBe(false);
    // an import consumes its upload
    expect((await store.take(second, 'p.png').read(100)).toString()).toBe('123456');
    await expect(store.take(second, 'p.png').read(100)).rejects.toMatchObject({ code: 'not-found' });
  });
});
