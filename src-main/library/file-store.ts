import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isNodeError } from '../common/app-error.js';
import { processAlive } from '../common/process-alive.js';

const SHA_PATTERN = /^[0-9a-f]{64}$/;
const TMP_DIR = '.tmp';
/** A writer's temp folder older than this is swept even if its pid is alive again (a reused pid). */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content-addressed files: store/ab/abcdef… named by their sha256.
 * A file appears under its name only complete: it is written to .tmp/<pid>/, flushed, then renamed.
 * Each process writes in a folder of its own, so one process's cleanup never takes another's write in flight.
 */
export class FileStore {
  private readonly tmpDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, TMP_DIR, String(process.pid));
    mkdirSync(this.tmpDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA_PATTERN.test(sha256)) throw new AppError('invalid-input', `Not a sha256 digest: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = sha256Of(bytes);
    const target = this.pathOf(sha256);
    if (await exists(target)) return { sha256, size: bytes.byteLength };
    const tmp = join(this.tmpDir, `${sha256}.${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(this.tmpDir, { recursive: true }); // another process may have swept it as stale
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      mkdirSync(join(this.root, sha256.slice(0, 2)), { recursive: true });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      if (isNodeError(err) && (err.code === 'ENOSPC' || err.code === 'EDQUOT')) {
        throw new AppError('disk-full', `The disk holding ${this.root} is full; free some space and try again. Nothing was stored.`, {
          cause: err,
        });
      }
      throw err;
    }
    return { sha256, size: bytes.byteLength };
  }

  async read(sha256: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (err) {
      if (isNodeError(err) && err.code === 'ENOENT') {
        throw new AppError('not-found', `File ${sha256.slice(0, 12)}… is missing from the library store.`);
      }
      throw err;
    }
  }

  has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  removeSync(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }

  /** Every complete file in the store, with its age, for reconciliation. */
  list(): Array<{ sha256: string; mtimeMs: number }> {
    const out: Array<{ sha256: string; mtimeMs: number }> = [];
    for (const dir of readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of readdirSync(join(this.root, dir))) {
        if (SHA_PATTERN.test(name) && name.startsWith(dir)) {
          out.push({ sha256: name, mtimeMs: statSync(join(this.root, dir, name)).mtimeMs });
        }
      }
    }
    return out;
  }

  /**
   * Half-written files of writers that are gone (their process ended: killed, crashed, closed); nothing
   * points at them. Writes of live processes, this one's included, are left alone.
   */
  clearTemp(isAlive: (pid: number) => boolean = processAlive): number {
    const dir = join(this.root, TMP_DIR);
    let removed = 0;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const pid = /^\d+$/.test(name) ? Number(name) : NaN;
      if (pid === process.pid) continue;
      try {
        const info = statSync(path);
        const stale = Date.now() - info.mtimeMs > STALE_TEMP_MS;
        if (Number.isInteger(pid) && isAlive(pid) && !stale) continue;
        // a dead writer's folder, or a loose file from a version that wrote into .tmp itself
        removed += info.isDirectory() ? readdirSync(path).length : 1;
        rmSync(path, { recursive: true, force: true });
      } catch (err) {
        // another process opening the library swept the same dead writer's folder first
        if (!(isNodeError(err) && err.code === 'ENOENT')) throw err;
      }
    }
    return removed;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
