// Reading the files a person points the app at, safely: only regular files (a FIFO, device or socket
// would block a read forever, and with it the event loop or the I/O pool), opened without blocking,
// and small files read with a size bound. Each refusal names the file and says what it is instead.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AppError, fileError } from './app-error.js';

const kind = (s: Stats) =>
  s.isDirectory()
    ? 'a folder'
    : s.isFIFO()
      ? 'a named pipe'
      : s.isSocket()
        ? 'a socket'
        : s.isCharacterDevice() || s.isBlockDevice()
          ? 'a device'
          : 'not a regular file';

function refuseStat(err: unknown, path: string): never {
  throw fileError(err, path) ?? err;
}

function checkRegular(s: Stats, path: string, what: string): void {
  if (!s.isFile()) throw new AppError('invalid-input', `${path} is ${kind(s)}, not ${what}.`);
}

/** The file's stats if it is a regular file (following links); a clear refusal otherwise. */
export function regularFileSync(path: string, what = 'a file'): Stats {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (err) {
    refuseStat(err, path);
  }
  checkRegular(s, path, what);
  return s;
}

/** A descriptor of a regular file, opened without blocking (a file swapped for a pipe meanwhile is caught). */
export function openRegularSync(path: string, what = 'a file'): number {
  regularFileSync(path, what);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    checkRegular(fstatSync(fd), path, what);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A small regular file's bytes (configs, vocabularies), refusing one over `maxBytes`. */
export function readSmallFileSync(path: string, maxBytes: number, what = 'a file'): Buffer {
  const fd = openRegularSync(path, what);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes)
      throw new AppError('too-large', `${path} is ${(size / 1024 / 1024).toFixed(1)} MB; ${what} is at most ${(maxBytes / 1024 / 1024).toFixed(1)} MB.`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The async form of openRegularSync, for reads on the I/O pool. */
export async function openRegular(path: string, what = 'a file'): Promise<FileHandle> {
  try {
    checkRegular(await stat(path), path, what);
  } catch (err) {
    if (err instanceof AppError) throw err;
    refuseStat(err, path);
  }
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    checkRegular(await handle.stat(), path, what);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}
