// Two processes on one library (the CLI while the app imports, as the README allows): each open of the
// library reconciles it, and that must never take another process's write in flight.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../../src-main/library/library.js';

const BIN = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('two processes on one library', { timeout: 180_000 }, () => {
  let root: string;
  const photos: string[][] = [[], [], []];
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-two-'));
    mkdirSync(join(root, 'photos'));
    for (let i = 0; i < 24; i++) {
      const path = join(root, 'photos', `p${i}.png`);
      // noise: large files, so writes (and the window a careless cleanup could hit) take a while
      await sharp({ create: { width: 900 + i, height: 700, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
        .png()
        .toFile(path);
      photos[i % 3]!.push(path);
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('three importers and a reader at once: every photo lands, nothing is stray, the database is whole', async () => {
    const data = join(root, 'library');
    let importing = true;
    const reader = (async () => {
      let opens = 0;
      while (importing || opens < 3) {
        expect((await cli(['library', 'list', '--data-dir', data])).code).toBe(0);
        opens++;
      }
      return opens;
    })();
    const importers = photos.map((set) => cli(['import', ...set, '--data-dir', data]));
    const results = await Promise.all(importers);
    importing = false;
    expect(await reader).toBeGreaterThan(2);
    for (const r of results) {
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim().split('\n')).toHaveLength(8);
    }
    const library = Library.open(data);
    try {
      expect(library.images.list()).toHaveLength(24);
      expect(library.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const report = library.reconcile({ orphanMinAgeMs: 0 });
      expect(report).toMatchObject({ orphanFilesRemoved: 0, missingFiles: [] });
    } finally {
      library.close();
    }
  });
});
