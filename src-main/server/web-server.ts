import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { AppError, toApiError } from '../common/app-error.js';
import type { Backend } from '../api/backend.js';
import { DEFAULT_INGEST_LIMITS } from '../pipeline/ingest/normalize-photo.js';
import { contentSecurityPolicy, readExportFile, readRendererAsset, readStoreFile, RENDERER_DIR } from './content.js';

export const TOKEN_HEADER = 'x-singleinsert-token';
// masks travel as base64 PNGs inside calls
const MAX_INVOKE_BYTES = 32 * 1024 * 1024;

type Route = ({ path: string } | { prefix: string }) & {
  methods: readonly string[];
  /** 'header': API calls (x-singleinsert-token); 'query': files an <img> loads (?token=); 'none': public. */
  token: 'header' | 'query' | 'none';
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
};

export interface WebServer {
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

/**
 * Web mode: the same API contract over loopback HTTP (requests) and a WebSocket (events).
 * Only 127.0.0.1 is bound; every API call carries a per-run random token, and the
 * Host and Origin headers are checked so other local pages and rebound DNS names cannot call it.
 */
export async function startWebServer(
  backend: Backend,
  options: { port?: number; rendererDir?: string; token?: string; maxUploadBytes?: number } = {},
): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = options.rendererDir ?? RENDERER_DIR;
  let origin = '';

  // a client that never finishes its headers (slowloris) is dropped after 20 s; a body may take 5 minutes
  const server = createServer({ headersTimeout: 20_000, requestTimeout: 300_000 }, (req, res) => {
    handle(req, res).catch((err) => sendError(res, err));
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 });

  /** What the server answers, first match wins: a path, its methods, how a caller proves it holds the token. */
  const routes: Route[] = [
    { path: '/api/invoke', methods: ['POST'], token: 'header', handle: invoke },
    { path: '/api/upload', methods: ['POST'], token: 'header', handle: upload },
    { prefix: '/files/', methods: ['GET', 'HEAD'], token: 'query', handle: storeFile },
    { prefix: '/exports/', methods: ['GET', 'HEAD'], token: 'query', handle: exportFile },
    // the renderer's files: public, like any web page's scripts (they hold no data)
    { prefix: '/', methods: ['GET', 'HEAD'], token: 'none', handle: rendererAsset },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return sendStatus(res, 421, 'Misdirected request');
    const url = requestTarget(req);
    if (!url) return sendStatus(res, 400, 'Bad request target');
    const route = routes.find((r) => ('path' in r ? url.pathname === r.path : url.pathname.startsWith(r.prefix)))!;
    if (!route.methods.includes(req.method ?? '')) return sendStatus(res, 405, route.methods.includes('POST') ? 'Use POST' : 'Method not allowed');
    if (route.token === 'header' && !tokenValid(req.headers[TOKEN_HEADER]))
      return sendStatus(res, 401, 'Missing or wrong API token; open the URL the app printed.');
    if (route.token === 'query' && !tokenValid(url.searchParams.get('token') ?? undefined)) return sendStatus(res, 401, 'Missing or wrong token');
    return route.handle(req, res, url);
  }

  async function invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!String(req.headers['content-type']).startsWith('application/json')) return sendStatus(res, 415, 'Expected application/json');
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, MAX_INVOKE_BYTES)).toString('utf8'));
    } catch (err) {
      if (err instanceof AppError) throw err;
      return sendJson(res, 200, { ok: false, error: { code: 'invalid-input', message: 'The request body is not valid JSON.' } });
    }
    return sendJson(res, 200, await backend.dispatch(body));
  }

  async function upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const limit = options.maxUploadBytes ?? DEFAULT_INGEST_LIMITS.maxFileBytes;
    if (Number(req.headers['content-length'] ?? 0) > limit) throw new AppError('too-large', `The upload is larger than ${Math.round(limit / 1024 / 1024)} MB.`);
    return sendJson(res, 200, { uploadId: await backend.uploads.saveStream(req, limit) });
  }

  async function storeFile(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const file = await readStoreFile(backend.library, url.pathname.slice('/files/'.length));
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return send(res, 200, file.mime, file.body);
  }

  /** An exported concept file, as a download the browser saves (web mode has no folder of its own to write to). */
  async function exportFile(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const file = await readExportFile(backend.library, url.pathname.slice('/exports/'.length).split('/').map(decodeURIComponent).join('/'));
    res.setHeader('Content-Disposition', `attachment; filename="${file.name}"`);
    res.setHeader('Cache-Control', 'no-store');
    return send(res, 200, 'application/octet-stream', file.body);
  }

  async function rendererAsset(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const asset = await readRendererAsset(url.pathname, rendererDir);
    if (asset.mime.startsWith('text/html')) res.setHeader('Cache-Control', 'no-store');
    return send(res, 200, asset.mime, asset.body);
  }

  // a request line Node cannot parse gets a 400 and the connection closes; a broken socket only ends itself
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.on('upgrade', (req, socket, head) => {
    // every path of a socket handles its errors: a peer that resets or sends garbage ends only itself
    socket.on('error', () => socket.destroy());
    const url = requestTarget(req);
    if (
      !url ||
      !hostAllowed(req) ||
      url.pathname !== '/api/events' ||
      req.headers.origin !== origin ||
      !tokenValid(url.searchParams.get('token') ?? undefined)
    ) {
      socket.end(`HTTP/1.1 ${url ? '403 Forbidden' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = backend.events.subscribe((message) => ws.send(JSON.stringify(message)));
      ws.on('close', unsubscribe);
      // frames over the size limit, unmasked or not UTF-8: ws reports them here and the connection goes
      ws.on('error', () => ws.terminate());
      ws.on('message', () => ws.close(1008, 'This socket only sends events'));
    });
  });

  /** The request's URL, or null when its target is not one (a bad escape, a NUL byte, garbage). */
  function requestTarget(req: IncomingMessage): URL | null {
    const target = req.url ?? '/';
    if (!target.startsWith('/') || target.includes('\0')) return null;
    try {
      const url = new URL(target, origin);
      decodeURIComponent(url.pathname);
      return url;
    } catch {
      return null;
    }
  }

  function hostAllowed(req: IncomingMessage): boolean {
    const port = (server.address() as AddressInfo).port;
    return req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;
  }

  function tokenValid(given: string | string[] | undefined): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  function send(res: ServerResponse, status: number, mime: string, body: Buffer | string): void {
    res.writeHead(status, {
      'Content-Type': mime,
      'Content-Security-Policy': contentSecurityPolicy([origin.replace(/^http/, 'ws')]),
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    res.end(body);
  }

  function sendJson(res: ServerResponse, status: number, value: unknown): void {
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
  }

  function sendStatus(res: ServerResponse, status: number, message: string): void {
    send(res, status, 'text/plain; charset=utf-8', message);
  }

  function sendError(res: ServerResponse, err: unknown): void {
    const error = toApiError(err);
    if (error.code === 'internal') console.error('[web]', err);
    const status = error.code === 'not-found' ? 404 : error.code === 'too-large' ? 413 : error.code === 'invalid-input' ? 400 : 500;
    if (res.headersSent) return void res.end();
    // the rest of an oversized body is not read: answer, then drop the connection (a client still
    // sending would otherwise wait on a socket nobody reads)
    if (error.code === 'too-large') {
      res.setHeader('Connection', 'close');
      const socket = res.req.socket; // detached from the request once the answer is out
      res.once('finish', () => socket?.destroy());
    }
    if (res.req.url?.startsWith('/api/')) return sendJson(res, status, { ok: false, error });
    sendStatus(res, status, error.message);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    close: async () => {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new AppError('too-large', `The request is larger than ${Math.round(limit / 1024 / 1024)} MB.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError('too-large', `The request is larger than ${Math.round(limit / 1024 / 1024)} MB.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
