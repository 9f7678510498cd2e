import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { sha256OfFile } from '../../src-main/model-manager/download.js';
import { installFromPath, installFromUrl, removeModel } from '../../src-main/model-manager/install.js';
import { writeSafetensors } from '../../src-main/weights/safetensors.js';
import { writeTinyDiffusers, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { tmpDir } from '../helpers/tmp.js';

describe('model manager', () => {
  let root: string;
  let single: string;
  let body: Buffer;
  let server: Server;
  let base: string;
  /** The next request to /flaky.safetensors is cut off after this many bytes (then served whole). */
  let cutNextAt = 0;
  const requests: Array<{ path: string; range: string | undefined }> = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-models-'));
    single = writeTinySingleFile(join(root, 'tiny.safetensors'));
    body = readFileSync(single);
    server = createServer((req, res) => {
      requests.push({ path: req.url!, range: req.headers.range });
      if (!['/tiny.safetensors', '/flaky.safetensors'].includes(req.url!)) return void res.writeHead(404).end();
      const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const slice = body.subarray(start);
      res.writeHead(start ? 206 : 200, {
        'content-length': slice.length,
        ...(start ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
      });
      if (req.url === '/flaky.safetensors' && cutNextAt) {
        res.write(slice.subarray(0, cutNextAt));
        cutNextAt = 0;
        setTimeout(() => res.destroy(), 20);
        return;
      }
      res.end(slice);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  it('downloads with a hash check and registers the model with its family', async () => {
    const library = Library.open(tmpDir());
    const expected = await sha256OfFile(single);
    const progress: number[] = [];
    const model = await installFromUrl(library, `${base}/tiny.safetensors`, { sha256: expected, onProgress: (p) => progress.push(p.received) });
    expect(model).toMatchObject({
      family: 'sd1',
      format: 'single-file',
      managed: true,
      sha256: expected,
      sizeBytes: body.length,
      sourceUrl: `${base}/tiny.safetensors`,
    });
    expect(progress.at(-1)).toBe(body.length);
    expect(readFileSync(model.path).equals(body)).toBe(true);
    expect(library.models.list().map((m) => m.id)).toEqual([model.id]);
    library.close();
  });

  it('resumes a truncated download from where it stopped', async () => {
    const library = Library.open(tmpDir());
    cutNextAt = 100_000;
    await expect(installFromUrl(library, `${base}/flaky.safetensors`)).rejects.toThrow(/stopped at 100000 of \d+ bytes.*Run it again to resume/);
    expect(existsSync(join(library.dataDir, 'models', 'flaky.safetensors.part'))).toBe(true);
    expect(library.models.list()).toEqual([]);
    requests.length = 0;
    const model = await installFromUrl(library, `${base}/flaky.safetensors`, { sha256: await sha256OfFile(single) });
    expect(requests).toEqual([{ path: '/flaky.safetensors', range: 'bytes=100000-' }]);
    expect(readFileSync(model.path).equals(body)).toBe(true);
    library.close();
  });

  it('deletes a download whose hash is wrong and registers nothing', async () => {
    const library = Library.open(tmpDir());
    await expect(installFromUrl(library, `${base}/tiny.safetensors`, { sha256: 'ab'.repeat(32) })).rejects.toThrow(
      /sha256 is [0-9a-f]{64}, not the expected abab.*deleted/,
    );
    expect(existsSync(join(library.dataDir, 'models', 'tiny.safetensors'))).toBe(false);
    expect(existsSync(join(library.dataDir, 'models', 'tiny.safetensors.part'))).toBe(false);
    expect(library.models.list()).toEqual([]);
    await expect(installFromUrl(library, `${base}/missing.safetensors`)).rejects.toThrow(/answered 404/);
    await expect(installFromUrl(library, `${base}/model.ckpt`)).rejects.toThrow(/not a \.safetensors file/);
    library.close();
  });

  it('references local models in place unless asked to copy, and removes only what it made', async () => {
    const library = Library.open(tmpDir());
    const folder = writeTinyDiffusers(join(tmpDir(), 'my-sd15'));
    const referenced = await installFromPath(library, folder);
    expect(referenced).toMatchObject({ family: 'sd1', format: 'diffusers', managed: false, path: folder, name: 'my-sd15' });
    const copied = await installFromPath(library, single, { copy: true, name: 'tiny copy' });
    expect(copied.managed).toBe(true);
    expect(copied.path).toBe(join(library.dataDir, 'models', 'tiny.safetensors'));
    expect(copied.sha256).toBe(await sha256OfFile(single));
    expect(removeModel(library, referenced.id)).toEqual({ deletedFiles: false });
    expect(existsSync(folder)).toBe(true);
    expect(removeModel(library, copied.id)).toEqual({ deletedFiles: true });
    expect(existsSync(copied.path)).toBe(false);
    expect(library.models.list()).toEqual([]);
    library.close();
  });

  it('refuses another model family with a clear message', async () => {
    const library = Library.open(tmpDir());
    const sdxl = join(tmpDir(), 'xl.safetensors');
    writeSafetensors(sdxl, { 'conditioner.embedders.0.model.w': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    await expect(installFromPath(library, sdxl)).rejects.toThrow(/Stable Diffusion XL/);
    expect(library.models.list()).toEqual([]);
    library.close();
  });

  it('works through the CLI: models add, list --json, rm', async () => {
    const dataDir = tmpDir();
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: () => {} };
    expect(await runCli(['models', 'add', single, '--name', 'tiny', '--data-dir', dataDir], io, {})).toBe(0);
    const id = lines[0]!.split('\t')[0]!;
    lines.length = 0;
    expect(await runCli(['models', 'list', '--json', '--data-dir', dataDir], io, {})).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toMatchObject([{ id, name: 'tiny', family: 'sd1', managed: false }]);
    lines.length = 0;
    expect(await runCli(['models', 'rm', 'tiny', '--data-dir', dataDir], io, {})).toBe(0);
    expect(lines[0]).toBe(`removed ${id} (files kept at ${single})`);
    expect(await runCli(['models', 'add', '--data-dir', dataDir], io, {})).toBe(2);
  });
});
