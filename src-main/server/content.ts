// What both transports serve besides the API: the built renderer and files from the store.
import { lstat, readFile } from 'node:fs/promises';
import { EXPORTS_FOLDER } from '../../src-preload/contract/index.js';
import { extname, join, normalize, sep } from 'node:path';
import { AppError } from '../common/app-error.js';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { Library } from '../library/library.js';

export const RENDERER_DIR = join(PROJECT_ROOT, 'out', 'renderer');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The Content-Security-Policy of the app's pages; `connect` adds the event socket's origin in web mode. */
export function contentSecurityPolicy(connect: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The policy as a page's <meta> carries it (frame-ancestors only works as a header). */
export const metaContentSecurityPolicy = () =>
  contentSecurityPolicy()
    .split('; ')
    .filter((d) => !d.startsWith('frame-ancestors'))
    .join('; ');

/** A file of the built renderer, never outside its folder; unknown paths get index.html (single-page app). */
export async function readRendererAsset(pathname: string, root = RENDERER_DIR): Promise<{ body: Buffer; mime: string }> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new AppError('not-found', 'Not found');
  }
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  const file = join(root, rel || 'index.html');
  if (!file.startsWith(root + sep) && file !== root) throw new AppError('not-found', 'Not found');
  try {
    return { body: await readFile(file), mime: MIME[extname(file)] ?? 'application/octet-stream' };
  } catch {
    if (extname(rel) !== '') throw new AppError('not-found', `Not found: ${pathname}`);
    try {
      return { body: await readFile(join(root, 'index.html')), mime: MIME['.html']! };
    } catch {
      throw new AppError('unavailable', 'The renderer is not built; run `npm run build` first.');
    }
  }
}

/** A file of the content store by its sha256, with the type it was stored as. */
export async function readStoreFile(library: Library, sha256: string): Promise<{ body: Buffer; mime: string }> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new AppError('not-found', 'Not found');
  const row = library.db.prepare('SELECT mime FROM blobs WHERE sha256 = ?').get(sha256) as { mime: string } | undefined;
  if (!row) throw new AppError('not-found', 'Not found');
  return { body: await library.store.read(sha256), mime: row.mime };
}

/** A file the person exported into the library's exports folder (web mode's downloads): `name.safetensors`, or one folder down. */
export async function readExportFile(library: Library, relative: string): Promise<{ body: Buffer; name: string }> {
  // bare names only (no dot-dot, no hidden files), at most one folder deep; a link is never followed out of the folder
  const parts = relative.split('/');
  if (parts.length > 2 || !parts.every((p) => /^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$/.test(p) && !p.includes('..'))) throw new AppError('not-found', 'Not found');
  let path = join(library.dataDir, EXPORTS_FOLDER);
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const stat = await lstat(path).catch(() => null);
    if (!stat || stat.isSymbolicLink() || (i < parts.length - 1 ? !stat.isDirectory() : !stat.isFile())) throw new AppError('not-found', 'Not found');
  }
  return { body: await readFile(path), name: parts.at(-1)! };
}
