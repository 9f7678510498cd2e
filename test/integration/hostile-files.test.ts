// Files that are not files: a named pipe (or device, socket) handed to import, models add or generate
// would block a read for ever. They are refused at once, with what they are, and the API keeps answering.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, createBackend } from '../../src-main/api/backend.js';
import { callOf } from '../helpers/api-calls.js';

const BIN = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));

describe('named pipes and other non-files', { timeout: 120_000 }, () => {
  let root: string;
  let fifo: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-fifo-'));
    fifo = join(root, 'photo.jpg');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    mkdirSync(join(root, 'model'));
    expect(spawnSync('mkfifo', [join(root, 'model', 'model_index.json')]).status).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--data-dir', join(root, 'lib')], { encoding: 'utf8', timeout: 30_000 });

  it('the CLI refuses them at once: import, models add, generate', () => {
    const imported = cli('import', fifo);
    expect(imported.status).toBe(1);
    expect(imported.stderr).toMatch(/photo\.jpg is a named pipe, not a photo\./);
    const added = cli('models', 'add', fifo);
    expect(added.status).toBe(1);
    expect(added.stderr).toMatch(/photo\.jpg is a named pipe, not a model file or folder/);
    const folder = cli('generate', '--model', join(root, 'model'), '--prompt', 'x');
    expect(folder.status).toBe(1);
    expect(folder.stderr).toMatch(/model_index\.json is a named pipe, not a JSON config/);
  });

  it('a link that leads back to itself is named as such, not an "Unexpected error"', () => {
    const loop = join(root, 'loop.jpg');
    symlinkSync(loop, loop);
    for (const r of [cli('import', loop), cli('models', 'add', loop)]) {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/loop\.jpg is a symbolic link that leads back to itself\./);
      expect(r.stderr).not.toMatch(/Unexpected error/);
    }
  });

  it('the API refuses them and answers other calls meanwhile', async () => {
    let backend: Backend | undefined;
    try {
      backend = createBackend({ dataDir: join(root, 'api-lib') });
      const call = callOf(() => backend!);
      const started = performance.now();
      const result = (await call('images', 'import', { sources: [{ kind: 'path', path: fifo }] })) as {
        results: Array<{ status: string; error?: { message: string } }>;
      };
      expect(result.results[0], JSON.stringify(result.results[0])).toMatchObject({
        status: 'failed',
        error: { message: expect.stringMatching(/is a named pipe, not a photo/) },
      });
      await expect(call('models', 'addPath', { path: fifo })).rejects.toThrow(/is a named pipe/);
      expect(performance.now() - started).toBeLessThan(5000);
      await expect(call('library', 'stats', {})).resolves.toMatchObject({ images: 0 });
    } finally {
      await backend?.close();
    }
  });
});
