import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Backend, createBackend } from '../../src-main/api/backend.js';
import { startWebServer, TOKEN_HEADER, type WebServer } from '../../src-main/server/web-server.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { tmpDir } from '../helpers/tmp.js';

/** A raw request, so the Host header can be set (fetch forbids that). */
function raw(server: WebServer, path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const url = new URL(path, server.origin);
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('web mode server', () => {
  let backend: Backend;
  let server: WebServer;
  const invoke = (body: unknown, headers: Record<string, string> = { [TOKEN_HEADER]: server.token }) =>
    raw(server, '/api/invoke', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeEach(async () => {
    backend = createBackend({ dataDir: tmpDir() });
    server = await startWebServer(backend, { rendererDir: tmpDir() });
  });
  afterEach(async () => {
    await server.close();
    backend.close();
  });

  it('binds to 127.0.0.1 and prints a URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('refuses API calls without the token, with a wrong token, or for another Host', async () => {
    const call = { service: 'library', method: 'list', input: {} };
    expect((await invoke(call, {})).status).toBe(401);
    expect((await invoke(call, { [TOKEN_HEADER]: 'x'.repeat(32) })).status).toBe(401);
    const port = new URL(server.origin).port;
    const rebound = await raw(server, '/api/invoke', {
      method: 'POST',
      headers: { host: `evil.example:${port}`, 'content-type': 'application/json', [TOKEN_HEADER]: server.token },
      body: JSON.stringify(call),
    });
    expect(rebound.status).toBe(421);
    expect(
      (await raw(server, `/api/invoke`, { method: 'POST', headers: { [TOKEN_HEADER]: server.token, 'content-type': 'text/plain' }, body: '{}' })).status,
    ).toBe(415);
  });

  it('serves the contract: valid calls answer, invalid payloads get a clear error', async () => {
    const ok = await invoke({ service: 'library', method: 'list', input: {} });
    expect(JSON.parse(ok.body)).toEqual({ ok: true, value: { images: [], concepts: [] } });
    const bad = JSON.parse((await invoke({ service: 'library', method: 'deleteImage', input: { id: 7 } })).body);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringMatching(/deleteImage/) } });
    const notJson = await raw(server, '/api/invoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: server.token },
      body: '{nope',
    });
    expect(JSON.parse(notJson.body)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it("offers exported files as downloads with the token, from the exports folder only, never through a link or '..'", async () => {
    const exports = join(backend.dataDir, 'exports');
    mkdirSync(join(exports, 'rex-diffusers'), { recursive: true });
    writeFileSync(join(exports, 'rex.safetensors'), 'embedding bytes');
    writeFileSync(join(exports, 'rex-diffusers', 'learned_embeds.safetensors'), 'diffusers bytes');
    writeFileSync(join(backend.dataDir, 'secret.txt'), 'not for download');
    symlinkSync(join(backend.dataDir, 'secret.txt'), join(exports, 'link.safetensors'));
    const got = await raw(server, `/exports/rex.safetensors?token=${server.token}`);
    expect([got.status, got.body, got.headers['content-disposition']]).toEqual([200, 'embedding bytes', 'attachment; filename="rex.safetensors"']);
    const nested = await raw(server, `/exports/rex-diffusers/learned_embeds.safetensors?token=${server.token}`);
    expect([nested.status, nested.body]).toEqual([200, 'diffusers bytes']);
    expect((await raw(server, '/exports/rex.safetensors')).status).toBe(401);
    for (const path of [
      '/exports/..%2Fsecret.txt',
      '/exports/%2E%2E/secret.txt',
      '/exports/link.safetensors',
      '/exports/rex-diffusers',
      '/exports/a/b/c',
      '/exports/.hidden',
    ])
      expect((await raw(server, `${path}?token=${server.token}`)).status, path).toBe(404);
  });

  it('imports an uploaded photo, serves its thumbnail with the token, and pushes events over the socket', async () => {
    const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api/events?token=${server.token}`, { origin: server.origin });
    const events: Array<{ service: string; event: string; payload: { state?: string } }> = [];
    ws.on('message', (m) => events.push(JSON.parse(String(m))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

    const upload = await raw(server, '/api/upload', {
      method: 'POST',
      headers: { [TOKEN_HEADER]: server.token, 'content-type': 'application/octet-stream' },
      body: readFileSync(fixtureImage('dog_00.jpg')),
    });
    const { uploadId } = JSON.parse(upload.body) as { uploadId: string };
    const imported = JSON.parse(
      (await invoke({ service: 'images', method: 'import', input: { sources: [{ kind: 'upload', uploadId, name: 'dog_00.jpg' }] } })).body,
    );
    expect(imported).toMatchObject({ ok: true, value: { results: [{ status: 'imported', name: 'dog_00.jpg' }] } });
    const thumbSha = imported.value.results[0].image.thumbSha256 as string;

    const thumb = await raw(server, `/files/${thumbSha}?token=${server.token}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect((await raw(server, `/files/${thumbSha}`)).status).toBe(401);
    expect((await raw(server, `/files/${'0'.repeat(64)}?token=${server.token}`)).status).toBe(404);

    await new Promise((r) => setTimeout(r, 50));
    expect(events).toContainEqual({ service: 'library', event: 'onChanged', payload: { reason: 'imported' } });
    expect(events.filter((e) => e.event === 'onUpdate').map((e) => e.payload.state)).toEqual(expect.arrayContaining(['running', 'succeeded']));
    ws.close();
  });

  it('refuses event sockets from another origin or without the token', async () => {
    const attempt = (url: string, origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { origin });
        ws.once('open', () => resolve('open'));
        ws.once('error', () => resolve('refused'));
      });
    const wsBase = `${server.origin.replace('http', 'ws')}/api/events`;
    expect(await attempt(`${wsBase}?token=${server.token}`, 'http://evil.example')).toBe('refused');
    expect(await attempt(wsBase, server.origin)).toBe('refused');
  });

  it('lives on through hostile sockets and request lines: oversized, unmasked and non-UTF-8 frames, bad upgrades, garbage targets', async () => {
    const port = Number(new URL(server.origin).port);
    const alive = async () => expect(JSON.parse((await invoke({ service: 'library', method: 'stats', input: {} })).body)).toMatchObject({ ok: true });
    /** Raw bytes to the server; resolves with what it answered when it closes (or after 2 s). */
    const rawSocket = (...chunks: Buffer[]) =>
      new Promise<string>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => {
          for (const c of chunks) sock.write(c);
        });
        let answer = '';
        sock.on('data', (d) => (answer += d.toString('latin1')));
        sock.on('error', () => resolve(answer));
        sock.on('close', () => resolve(answer));
        setTimeout(() => (sock.destroy(), resolve(answer)), 2000);
      });
    const handshake = Buffer.from(
      `GET /api/events?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${server.origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const masked = (opcode: number, payload: Buffer) => {
      const mask = Buffer.from([1, 2, 3, 4]);
      const head =
        payload.length < 126
          ? Buffer.from([0x80 | opcode, 0x80 | payload.length])
          : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 255]);
      return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
    };

    // a frame over the payload limit, an unmasked frame, a text frame that is not UTF-8
    expect(await rawSocket(handshake, masked(1, Buffer.alloc(5000, 97)))).toMatch(/^HTTP\/1.1 101/);
    await alive();
    expect(await rawSocket(handshake, Buffer.from([0x81, 0x05, ...Buffer.from('hello')]))).toMatch(/^HTTP\/1.1 101/);
    await alive();
    expect(await rawSocket(handshake, masked(1, Buffer.from([0xff, 0xfe, 0xfd])))).toMatch(/^HTTP\/1.1 101/);
    await alive();
    // an upgrade with an invalid target, a wrong Host and no token is refused before the WebSocket layer
    const badUpgrade = Buffer.from(
      `GET http://[::1 HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(await rawSocket(badUpgrade)).toMatch(/^HTTP\/1.1 400 Bad Request/);
    await alive();
    // request lines and targets that are not URLs: 400, never a 500
    expect(await rawSocket(Buffer.from('GARBAGE\r\n\r\n'))).toMatch(/^HTTP\/1.1 400/);
    expect(await rawSocket(Buffer.from(`GET /a\0b HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`))).toMatch(/^HTTP\/1.1 400/);
    expect((await raw(server, '/%E0%A4%A', {})).status).toBe(400);
    expect((await raw(server, '/files/%zz?token=x', {})).status).toBe(400);
    await alive();
  });

  it('rejects an oversized upload with 413 and keeps nothing', async () => {
    const small = await startWebServer(backend, { rendererDir: tmpDir(), maxUploadBytes: 64 * 1024 });
    try {
      const r = await raw(small, '/api/upload', {
        method: 'POST',
        headers: { [TOKEN_HEADER]: small.token, 'content-type': 'application/octet-stream' },
        body: readFileSync(fixtureImage('dog_00.jpg')),
      });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'too-large' } });
      // the same bytes without a declared length: written as they come, stopped at the limit, nothing kept
      const chunked = await raw(small, '/api/upload', {
        method: 'POST',
        headers: { [TOKEN_HEADER]: small.token, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        body: readFileSync(fixtureImage('dog_00.jpg')),
      });
      expect(chunked.status).toBe(413);
      expect(readdirSync(join(backend.dataDir, 'uploads', String(process.pid)))).toEqual([]);
    } finally {
      await small.close();
    }
  });
});

describe('web mode static files', () => {
  it('serves the renderer with its CSP and never a file outside it', async () => {
    const backend = createBackend({ dataDir: tmpDir() });
    const rendererDir = tmpDir();
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
    const server = await startWebServer(backend, { rendererDir });
    try {
      const index = await raw(server, '/');
      expect(index.status).toBe(200);
      expect(index.body).toContain('<title>app</title>');
      expect(String(index.headers['content-security-policy'])).toContain("script-src 'self'");
      expect((await raw(server, '/some/screen')).body).toContain('<title>app</title>');
      // dots, plain or encoded, resolve inside the site's folder (an unknown path there is the app's page, a
      // missing file a 404); a bad escape is not a request target at all
      const traversals: Array<[string, number]> = [
        ['/../package.json', 404],
        ['/%2e%2e/%2e%2e/etc/passwd', 200],
        ['/..%2f..%2fetc%2fpasswd', 200],
        ['/..%2f..%2fpackage.json', 404],
        ['/%E0%A4%A', 400],
      ];
      for (const [path, status] of traversals) {
        const r = await raw(server, path);
        expect(r.status, path).toBe(status);
        expect(r.body, path).not.toMatch(/root:|"name"/);
        if (status === 200) expect(r.body, path).toContain('<title>app</title>');
      }
      expect((await raw(server, '/missing.js')).status).toBe(404);
    } finally {
      await server.close();
      backend.close();
    }
  });
});
