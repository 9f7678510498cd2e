import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { AppError, isNodeError } from '../common/app-error.js';
import type { Library } from '../library/library.js';
import type { ModelRecord } from '../../src-preload/contract/index.js';
import { detectFamily, type InstalledFamily } from './detect-family.js';
import { type DownloadProgress, downloadFile, sha256OfFile } from './download.js';
import { regularFileSync } from '../common/regular-file.js';

/** sha256 of a file, or of a folder's files (relative path + each file's hash, in order). */
export async function hashPath(path: string): Promise<{ sha256: string; bytes: number }> {
  if (!statSync(path).isDirectory()) return { sha256: await sha256OfFile(path), bytes: regularFileSync(path, 'a model file').size };
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) files.push(p);
    }
  };
  walk(path);
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of files) {
    hash.update(`${relative(path, f)}\0${await sha256OfFile(f)}\n`);
    bytes += statSync(f).size;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function checkFamily(path: string, expected?: InstalledFamily) {
  const detected = detectFamily(path, expected);
  if (expected && detected.family !== expected) {
    throw new AppError('unsupported-model', `${basename(path)} is a ${detected.family} model, not ${expected}.`);
  }
  return detected;
}

/**
 * Registers a model that is already on disk. By default its files are only referenced
 * (people share one models folder between tools); `copy` puts a copy in the library's models folder.
 */
export async function installFromPath(
  library: Library,
  path: string,
  options: { name?: string; copy?: boolean; family?: InstalledFamily } = {},
): Promise<ModelRecord> {
  const source = resolve(path);
  try {
    statSync(source);
  } catch (err) {
    // a missing path keeps its short sentence; a link loop or a name too long is worded by toApiError
    if (isNodeError(err) && err.code === 'ENOENT') throw new AppError('not-found', `No file or folder at ${source}.`);
    throw err;
  }
  const { family, format } = checkFamily(source, options.family);
  let target = source;
  if (options.copy) {
    target = join(library.dataDir, 'models', basename(source));
    if (existsSync(target)) throw new AppError('conflict', `${target} already exists; remove it or install under another name.`);
    mkdirSync(join(library.dataDir, 'models'), { recursive: true });
    cpSync(source, `${target}.copying`, { recursive: true });
    cpSync(`${target}.copying`, target, { recursive: true });
    rmSync(`${target}.copying`, { recursive: true, force: true });
  }
  const { sha256, bytes } = await hashPath(target);
  return library.models.add({
    family,
    format,
    name: options.name ?? basename(source),
    path: target,
    managed: options.copy === true,
    sha256,
    sizeBytes: bytes,
    sourceUrl: null,
  });
}

/** Downloads a single-file model into the library's models folder (resumable, hash-checked) and registers it. */
export async function installFromUrl(
  library: Library,
  url: string,
  options: { sha256?: string; name?: string; family?: InstalledFamily; signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
): Promise<ModelRecord> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('invalid-input', `"${url}" is not a URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new AppError('invalid-input', 'Only http and https downloads are supported.');
  const fileName = basename(decodeURIComponent(parsed.pathname)) || 'model.safetensors';
  if (!fileName.endsWith('.safetensors')) {
    throw new AppError('unsupported-model', `${fileName} is not a .safetensors file; only .safetensors models are downloaded (pickle files can run code).`);
  }
  const dir = join(library.dataDir, 'models');
  mkdirSync(dir, { recursive: true });
  const dest = join(dir, fileName);
  if (existsSync(dest)) throw new AppError('conflict', `${dest} already exists; remove that model first.`);
  const { sha256, bytes } = await downloadFile(url, dest, { sha256: options.sha256, signal: options.signal, onProgress: options.onProgress });
  try {
    const { family, format } = checkFamily(dest, options.family);
    return library.models.add({ family, format, name: options.name ?? fileName, path: dest, managed: true, sha256, sizeBytes: bytes, sourceUrl: url });
  } catch (err) {
    rmSync(dest, { force: true });
    throw err;
  }
}

/** Unregisters a model; its files are deleted only if the library made them (downloaded or copied). */
export function removeModel(library: Library, id: string): { deletedFiles: boolean } {
  const model = library.models.get(id);
  library.models.delete(id);
  if (model.managed) rmSync(model.path, { recursive: true, force: true });
  return { deletedFiles: model.managed };
}
