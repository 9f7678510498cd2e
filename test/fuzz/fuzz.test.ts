// The fuzz suite: seeded (the same inputs every run; FUZZ_SEED changes them), bounded in count and time.
// Mutated weight files, photos and masks, malformed API payloads for every contract method, and
// malformed WebSocket frames. Each input must end in a result or a clear error — never an "internal"
// error, an "Unexpected error" or a stack trace — and after each batch the server answers, SQLite's
// integrity check passes and the store holds no stray or partial file.
// (Two processes importing at once, named pipes and oversized uploads have their own tests:
// two-processes, hostile-files and web-server in test/integration.)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract } from '../../src-preload/contract/index.js';
import { type Backend, createBackend } from '../../src-main/api/backend.js';
import { toApiError } from '../../src-main/common/app-error.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { junkValue, mutateBytes, UNCLEAR_MESSAGE } from '../../src-main/audit/mutations.js';
import { importPhotos, type PhotoInput } from '../../src-main/pipeline/ingest/import-photos.js';
import { MaskService } from '../../src-main/pipeline/mask/mask-service.js';
import { startWebServer, TOKEN_HEADER, type WebServer } from '../../src-main/server/web-server.js';
import { readSafetensorsHeader } from '../../src-main/weights/safetensors.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { tmpDir } from '../helpers/tmp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

/** A clear outcome: success, or an error a person can act on. */
function expectClear(err: unknown, what: string): void {
  const given = err as { code?: unknown; message?: unknown };
  const e =
    !(err instanceof Error) && typeof given?.code === 'string' && typeof given.message === 'string'
      ? { code: given.code, message: given.message }
      : toApiError(err);
  expect(e.code, `${what}: ${e.message}`).not.toBe('internal');
  expect(e.message, `${what}: ${e.message}`).not.toMatch(UNCLEAR_MESSAGE);
}

describe('fuzz (seeded, bounded)', { timeout: 240_000 }, () => {
  let root: string;
  let backend: Backend;
  let server: WebServer;
  const r = new SeededRandom(SEED);

  beforeAll(async () => {
    root = tmpDir('si-fuzz-');
    backend = createBackend({ dataDir: join(root, 'library') });
    server = await startWebServer(backend, { rendererDir: tmpDir() });
  });
  afterAll(async () => {
    await server.close();
    await backend.close();
  });

  /** After a batch: the server answers, the database is whole, the store has no stray or partial file. */
  async function healthy() {
    const res = await fetch(`${server.origin}/api/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: server.token, host: new URL(server.origin).host },
      body: JSON.stringify({ service: 'library', method: 'stats', input: {} }),
    });
    expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
    const lib = backend.library;
    expect(lib.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(readdirSync(join(lib.dataDir, 'store', '.tmp', String(process.pid)))).toEqual([]);
    const report = lib.reconcile({ orphanMinAgeMs: 0 });
    expect(report.missingFiles).toEqual([]);
    expect(report.orphanFilesRemoved).toBe(0);
  }

  it('200 mutated safetensors headers: each opens or is refused clearly', async () => {
    const base = readFileSync(writeTinySingleFile(join(root, 'tiny.safetensors')));
    const headerEnd = 8 + Number(base.readBigUInt64LE(0));
    for (let i = 0; i < 200; i++) {
      const path = join(root, `m${i}.safetensors`);
      // most mutations in the header (and its length), some in the data
      writeFileSync(path, mutateBytes(r, base, 0, r.int(0, 10) < 8 ? headerEnd : base.length));
      try {
        readSafetensorsHeader(path);
        openStableDiffusion(path);
      } catch (err) {
        expectClear(err, `mutated model ${i}`);
      }
    }
    await healthy();
  });

  it('100 mutated photos: each lands or is refused clearly, and nothing half-made stays', async () => {
    const sources = ['dog_00.jpg', 'chelsea.png', 'cat_00.jpg'].map((f) => readFileSync(fixtureImage(f)));
    const photos: PhotoInput[] = Array.from({ length: 100 }, (_, i) => {
      const bytes = mutateBytes(r, sources[i % sources.length]!);
      return { name: `fuzz-${i}`, read: async () => bytes };
    });
    const results = await importPhotos(backend.library, photos);
    for (const [i, res] of results.entries()) if (res.status === 'failed') expectClear(res.error, `mutated photo ${i}`);
    await healthy();
  });

  it('100 mutated mask PNGs: each is saved or refused clearly, the previous version kept', async () => {
    const [imported] = await importPhotos(backend.library, [{ name: 'base.png', read: async () => readFileSync(fixtureImage('chelsea.png')) }]);
    const image = imported!.status === 'imported' ? imported!.image : backend.library.images.list().find((x) => x.name.startsWith('chelsea'))!;
    const good = await sharp({ create: { width: image.width, height: image.height, channels: 3, background: '#000' } })
      .composite([{ input: { create: { width: 40, height: 40, channels: 3, background: '#fff' } }, left: 10, top: 10 }])
      .png()
      .toBuffer();
    const masks = new MaskService(backend.library);
    await masks.save(image.id, 'cat', good, 'manual');
    for (let i = 0; i < 100; i++) {
      try {
        await masks.save(image.id, 'cat', mutateBytes(r, good), 'manual');
      } catch (err) {
        expectClear(err, `mutated mask ${i}`);
      }
    }
    expect(backend.library.masks.list(image.id).length).toBeGreaterThanOrEqual(1);
    await healthy();
  });

  it('200 malformed payloads across every contract method: refused with the field named, never internal', async () => {
    const methods = Object.entries(contract).flatMap(([service, def]) => Object.keys(def.methods).map((method) => ({ service, method })));
    expect(methods.length).toBeGreaterThan(30);
    for (let i = 0; i < 200; i++) {
      const { service, method } = methods[i % methods.length]!;
      const input = junkValue(r);
      const result = await backend.dispatch({ service, method, input });
      if (!result.ok) expectClear({ code: result.error.code, message: result.error.message }, `${service}.${method}(${JSON.stringify(input)?.slice(0, 80)})`);
    }
    // and the envelope itself
    for (const envelope of [
      null,
      7,
      'x',
      [],
      {},
      { service: '__proto__', method: 'x' },
      { service: 'library', method: 'constructor' },
      { service: 'library', method: 'toString', input: {} },
    ]) {
      const result = await backend.dispatch(envelope);
      expect(result.ok).toBe(false);
    }
    await healthy();
  });

  it('50 malformed WebSocket frames after a valid handshake: the server lives on', async () => {
    const port = Number(new URL(server.origin).port);
    const handshake = Buffer.from(
      `GET /api/events?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${server.origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.alloc(16, 3).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    for (let i = 0; i < 50; i++) {
      const frame = Buffer.from(Array.from({ length: r.int(1, 200) }, () => r.int(0, 256)));
      await new Promise<void>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => sock.write(Buffer.concat([handshake, frame])));
        sock.on('data', () => undefined);
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        setTimeout(() => (sock.destroy(), resolve()), 300);
      });
    }
    await healthy();
  });
});
