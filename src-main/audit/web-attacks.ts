// Row 1 of the audit: what any local process can send the web-mode server. Contract calls with malformed
// payloads, HTTP that is malformed or aimed where it must not go, uploads of every size and shape, and
// WebSocket upgrades and frames that break the protocol. After each input the server must still answer.
import { contract } from '../../src-preload/contract/index.js';
import type { SeededRandom } from '../graph/random.js';
import { junkValue } from './mutations.js';
import { errorOutcome, type Outcome, type Tally } from './outcomes.js';
import { rawExchange, ServerProcess } from './web-server-process.js';

type Answer = Awaited<ReturnType<ServerProcess['invoke']>>;

/** An HTTP answer's outcome: 2xx ok, 4xx a clear refusal, 5xx or an "internal" error ours. */
function answerOutcome(res: Answer): Outcome {
  if (!res) return 'hang';
  if (res.status === 0) return 'refused'; // the connection was closed on it; liveness is checked next
  if (res.status >= 500) return 'internal';
  const body = res.body as { ok?: boolean; error?: { code: string; message: string } } | string;
  if (typeof body === 'object' && body?.ok === false) return errorOutcome(body.error);
  return res.status < 300 ? 'ok' : 'refused';
}

export async function attackWebServer(dataDir: string, r: SeededRandom, tally: Tally, photos: Buffer[]): Promise<void> {
  let server = await ServerProcess.start(dataDir);
  /** Counts one input; a dead or deaf server afterwards is a crash (or a hang), and a new one is started. */
  const record = async (what: string, outcome: Outcome, detail = '') => {
    if (server.exited) {
      tally.add('crash', what, server.log.split('\n').slice(-6).join(' | '));
      server = await ServerProcess.start(dataDir);
      return;
    }
    if (!(await server.answers())) {
      tally.add('hang', what, 'the server stopped answering other calls');
      await server.stop();
      server = await ServerProcess.start(dataDir);
      return;
    }
    tally.add(outcome, what, detail);
  };
  const http = (lines: string[], body = '') => Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body, 'utf8')]);
  const rawOutcome = (a: Awaited<ReturnType<typeof rawExchange>>): Outcome => {
    if (a.timedOut) return 'hang';
    // a traversal that reached a file outside the renderer and the store leaks it
    if (/root:x?:0:0|SQLite format 3/.test(a.head)) return 'lost';
    return a.status !== undefined && a.status >= 500 ? 'internal' : a.status !== undefined && a.status < 300 ? 'ok' : 'refused';
  };

  try {
    // 1. Malformed payloads for every contract method (and the envelope)
    const methods = Object.entries(contract).flatMap(([service, def]) => Object.keys(def.methods).map((method) => ({ service, method })));
    for (let i = 0; i < 300; i++) {
      const { service, method } = methods[i % methods.length]!;
      const input = junkValue(r);
      const res =
        i % 25 === 24
          ? await server.post('/api/invoke', JSON.stringify(junkValue(r)), { 'content-type': 'application/json' })
          : await server.invoke(service, method, input);
      await record(`${service}.${method}(${JSON.stringify(input)?.slice(0, 60)})`, answerOutcome(res), JSON.stringify(res?.body)?.slice(0, 200));
    }

    // 2. Malformed HTTP on raw connections
    const host = `Host: ${server.host}`;
    const token = `x-singleinsert-token: ${server.token}`;
    // requests that are not complete yet: HTTP has the server wait for the rest (empty lines before a
    // request line are allowed), so no answer is right; the server must only keep answering others
    const incomplete = new Set(['no request line', 'HTTP/0.9 (no headers end)', 'body shorter than its length']);
    const requests: Array<[string, Buffer]> = [
      ['no request line', Buffer.from('\r\n\r\n')],
      ['garbage', Buffer.from('GARBAGE GARBAGE GARBAGE\r\n\r\n')],
      ['HTTP/0.9 (no headers end)', Buffer.from('GET /\r\n')],
      ['HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
      ['NUL in the path', http(['GET /index\0.html HTTP/1.1', host])],
      ['bad % escape', http(['GET /%zz HTTP/1.1', host])],
      ['bad % escape in files', http([`GET /files/%E0%A4%A?token=${server.token} HTTP/1.1`, host])],
      ['absolute URL to elsewhere', http(['GET http://example.com/ HTTP/1.1', host])],
      ['asterisk target', http(['OPTIONS * HTTP/1.1', host])],
      ['path traversal', http(['GET /../../../../etc/passwd HTTP/1.1', host])],
      ['encoded traversal', http(['GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1', host])],
      ['traversal into the store', http([`GET /files/../library.sqlite?token=${server.token} HTTP/1.1`, host])],
      ['encoded traversal into the store', http([`GET /files/%2e%2e%2flibrary.sqlite?token=${server.token} HTTP/1.1`, host])],
      ['a file id that is not one', http([`GET /files/${'a'.repeat(5000)}?token=${server.token} HTTP/1.1`, host])],
      ['files without a token', http(['GET /files/abc HTTP/1.1', host])],
      ['wrong Host', http(['GET / HTTP/1.1', 'Host: evil.example:80'])],
      ['no Host', http(['GET / HTTP/1.1'])],
      ['two Hosts', http(['GET / HTTP/1.1', host, 'Host: evil.example'])],
      ['invoke without token', http(['POST /api/invoke HTTP/1.1', host, 'Content-Type: application/json', 'Content-Length: 2'], '{}')],
      [
        'invoke with a wrong token',
        http(['POST /api/invoke HTTP/1.1', host, 'x-singleinsert-token: nope', 'Content-Type: application/json', 'Content-Length: 2'], '{}'),
      ],
      ['invoke as GET', http(['GET /api/invoke HTTP/1.1', host, token])],
      ['invoke as text', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: text/plain', 'Content-Length: 2'], '{}')],
      ['invoke with bad JSON', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: 5'], '{"a":')],
      ['invoke with a BOM', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: 5'], '\ufeff{}')],
      ['invoke with a huge declared length', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: 99999999999'])],
      ['invoke with a negative length', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: -5'], '{}')],
      ['invoke with a non-numeric length', http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: abc'], '{}')],
      [
        'invoke with two lengths',
        http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 3'], '{}'),
      ],
      [
        'broken chunked body',
        http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n'),
      ],
      [
        'chunked and a length',
        http(
          ['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Content-Length: 2'],
          '2\r\n{}\r\n0\r\n\r\n',
        ),
      ],
      [
        'body shorter than its length',
        http(['POST /api/invoke HTTP/1.1', host, token, 'Content-Type: application/json', 'Content-Length: 100', 'Connection: close'], '{}'),
      ],
      ['a 100 KB header', http(['GET / HTTP/1.1', host, `X-Big: ${'x'.repeat(100_000)}`])],
      ['5000 headers', http(['GET / HTTP/1.1', host, ...Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`)])],
      ['a header without a colon', http(['GET / HTTP/1.1', host, 'NoColonHere'])],
      ['a control character in a header', http(['GET / HTTP/1.1', host, 'X-A: a\u0001b'])],
      ['PUT', http(['PUT / HTTP/1.1', host, 'Content-Length: 0'])],
      ['DELETE', http(['DELETE /api/invoke HTTP/1.1', host, token])],
      ['an unknown method', http(['BREW / HTTP/1.1', host])],
      ['a very long URL', http([`GET /${'a'.repeat(70_000)} HTTP/1.1`, host])],
      ['a query of junk', http([`GET /?${'%'.repeat(300)} HTTP/1.1`, host])],
      ['upload as GET', http(['GET /api/upload HTTP/1.1', host, token])],
      ['upload without token', http(['POST /api/upload HTTP/1.1', host, 'Content-Length: 3'], 'abc')],
      ['upload declared 1 TB', http(['POST /api/upload HTTP/1.1', host, token, 'Content-Length: 1099511627776'])],
    ];
    for (let i = 0; i < 120; i++) {
      const [name, bytes] = requests[i % requests.length]!;
      // later passes cut the request short at a seeded point: a client that stops mid-request
      const whole = i < requests.length && !incomplete.has(name);
      const cut = i < requests.length ? bytes : bytes.subarray(0, r.int(1, bytes.length + 1));
      const answer = await rawExchange(server.port, cut, { waitMs: whole ? 10_000 : 1_500 });
      // a request cut short may rightly get no answer: only a whole one must be answered
      const outcome = !whole && answer.timedOut ? 'refused' : rawOutcome(answer);
      await record(`HTTP: ${name}${i >= requests.length ? ' (cut short)' : ''}`, outcome, answer.head);
    }

    // 3. Uploads: random bytes, real photos, empty, oversized, cut off; then imports of what was uploaded
    const uploads: Array<{ id: string; photo: boolean }> = [];
    for (let i = 0; i < 100; i++) {
      let res: Answer;
      let what: string;
      if (i % 10 === 9) {
        what = 'an upload cut off mid-body';
        await rawExchange(
          server.port,
          http(
            ['POST /api/upload HTTP/1.1', `Host: ${server.host}`, `x-singleinsert-token: ${server.token}`, 'Content-Length: 1000000'],
            'x'.repeat(r.int(0, 5000)),
          ),
          { waitMs: 300 },
        );
        res = { status: 400, body: 'cut' };
      } else if (i % 10 === 8) {
        what = 'an upload over the limit (streamed, 210 MB)';
        res = await server.post('/api/upload', Buffer.alloc(210 * 1024 * 1024, 1), {}, 60_000);
      } else if (i % 10 === 7) {
        what = 'an empty upload';
        res = await server.post('/api/upload', Buffer.alloc(0), {});
      } else {
        const photo = i % 2 === 0;
        what = photo ? 'a photo upload' : 'an upload of random bytes';
        res = await server.post(
          '/api/upload',
          photo ? photos[i % photos.length]! : Buffer.from(Array.from({ length: r.int(1, 300_000) }, () => r.int(0, 256))),
          {},
        );
        const id = (res?.body as { uploadId?: string })?.uploadId;
        if (id) uploads.push({ id, photo });
      }
      await record(what, res?.status === 413 ? 'refused' : answerOutcome(res), JSON.stringify(res?.body)?.slice(0, 200));
    }
    // what was uploaded, imported (random bytes must be refused clearly); then uploads that are unknown or used
    const imports = [
      ...uploads.map((u, i) => ({ ...u, name: `upload-${i}.png` })),
      ...['upl_00000000', 'upl_zzzzzzzzzzzz', uploads[0]?.id ?? 'upl_11111111'].map((id) => ({ id, photo: false, name: 'again.png' })),
    ];
    for (const upload of imports) {
      const { outcome, error, detail } = await server.importUpload(upload.id, upload.name);
      await record(
        `import of ${upload.name === 'again.png' ? 'an unknown or used' : upload.photo ? 'a photo' : 'random bytes'} upload`,
        outcome === 'failed' ? errorOutcome(error) : outcome,
        detail,
      );
    }

    // 4. WebSocket: bad upgrades, then frames that break the protocol after a good handshake
    const key = Buffer.alloc(16, 7).toString('base64');
    const upgrade = (target: string, headers: { host?: string; origin?: string } = {}) =>
      http([
        `GET ${target} HTTP/1.1`,
        `Host: ${headers.host ?? server.host}`,
        `Origin: ${headers.origin ?? server.origin}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
      ]);
    const good = () => upgrade(`/api/events?token=${server.token}`);
    const masked = (opcode: number, payload: Buffer, fin = true) => {
      const mask = Buffer.from([1, 2, 3, 4]);
      const len =
        payload.length < 126
          ? Buffer.from([0x80 | payload.length])
          : Buffer.concat([Buffer.from([0x80 | 126]), Buffer.from([payload.length >> 8, payload.length & 255])]);
      return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), len, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
    };
    const frames: Array<[string, () => Buffer]> = [
      ['a frame over the size limit', () => masked(2, Buffer.alloc(60_000, 1))],
      ['an unmasked frame', () => Buffer.from([0x81, 0x02, 0x68, 0x69])],
      ['a text frame of invalid UTF-8', () => masked(1, Buffer.from([0xff, 0xfe, 0xc3, 0x28]))],
      ['a fragmented ping', () => masked(9, Buffer.from('x'), false)],
      ['a close frame with a bad code', () => masked(8, Buffer.from([0x03, 0xe7]))],
      ['a 2^63-byte length', () => Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])],
      ['a reserved opcode', () => masked(3, Buffer.from('x'))],
      ['RSV bits set', () => Buffer.from([0xf1, 0x81, 1, 2, 3, 4, 0x69])],
      ['a message (this socket only sends)', () => masked(1, Buffer.from('{"service":"library","method":"stats","input":{}}'))],
      ['500 pings', () => Buffer.concat(Array.from({ length: 500 }, () => masked(9, Buffer.from('p'))))],
      ['random bytes', () => Buffer.from(Array.from({ length: r.int(1, 300) }, () => r.int(0, 256)))],
    ];
    const upgrades: Array<[string, () => Buffer]> = [
      ['an upgrade without a token', () => upgrade('/api/events')],
      ['an upgrade with a wrong token', () => upgrade('/api/events?token=nope')],
      ['an upgrade from another origin', () => upgrade(`/api/events?token=${server.token}`, { origin: 'http://evil.example' })],
      ['an upgrade with a wrong Host', () => upgrade(`/api/events?token=${server.token}`, { host: 'evil.example' })],
      ['an upgrade with a bad target and no token', () => upgrade('/%zz%', { host: 'evil.example' })],
      ['an upgrade with an absolute target', () => upgrade('http://evil.example/api/events')],
      ['an upgrade on the invoke path', () => upgrade(`/api/invoke?token=${server.token}`)],
      ['an upgrade with a NUL byte', () => upgrade('/api/\0events')],
    ];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 0) {
        const [name, make] = upgrades[(i / 4) % upgrades.length]!;
        const answer = await rawExchange(server.port, make(), { waitMs: 5_000 });
        // a refused upgrade must be an HTTP error, never a switch to WebSocket
        await record(`WebSocket: ${name}`, answer.status === 101 ? 'internal' : rawOutcome(answer), answer.head);
      } else {
        const [name, make] = frames[i % frames.length]!;
        const answer = await rawExchange(server.port, good(), { after: make(), waitMs: 800 });
        await record(`WebSocket: ${name}`, answer.status === 101 ? 'ok' : rawOutcome(answer), answer.head);
      }
    }
  } finally {
    await server.stop();
  }
}
