import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isNodeError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import { processAlive } from '../common/process-alive.js';
import type { PhotoInput } from '../pipeline/ingest/import-photos.js';

export interface UploadLimits {
  /** An upload not imported within this long is removed. */
  expireMs: number;
  /** The most bytes all waiting uploads may hold together. */
  quotaBytes: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { expireMs: 60 * 60 * 1000, quotaBytes: 2 * 1024 ** 3 };

/**
 * Web mode's browser cannot hand over file paths, so photos are uploaded first and imported by
 * upload id. Uploads are temporary: consumed by their import, expired when never imported, held
 * under a quota. Each server process keeps its own folder (uploads/<pid>/), so a second server on the
 * same library never takes the first one's uploads; folders of ended processes are removed at start.
 */
export class UploadStore {
  private readonly dir: string;

  constructor(
    root: string,
    private readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
    isAlive: (pid: number) => boolean = processAlive,
  ) {
    this.dir = join(root, String(process.pid));
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const pid = /^\d+$/.test(name) ? Number(name) : NaN;
      if (pid !== process.pid && !(Number.isInteger(pid) && isAlive(pid))) rmSync(join(root, name), { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  async save(bytes: Uint8Array): Promise<string> {
    return this.saveStream([bytes], bytes.byteLength);
  }

  /**
   * Writes an upload as it arrives (a request body), so memory stays near one chunk whatever its size;
   * more than `maxBytes`, or more than the quota leaves room for, is refused and nothing is kept.
   */
  async saveStream(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, maxBytes: number): Promise<string> {
    const room = this.limits.quotaBytes - this.sweep();
    const limit = Math.min(maxBytes, room);
    const id = newId('upl', 10);
    const path = join(this.dir, id);
    const handle = await open(path, 'wx');
    let size = 0;
    try {
      for await (const chunk of chunks) {
        size += chunk.byteLength;
        if (size > limit) {
          throw limit < maxBytes
            ? new AppError(
                'too-large',
                `Uploads waiting to be imported already hold ${Math.round((this.limits.quotaBytes - room) / 1024 ** 2)} MB; import or wait for them (they expire after an hour), then upload again.`,
              )
            : new AppError('too-large', `The upload is larger than ${Math.round(maxBytes / 1024 / 1024)} MB.`);
        }
        await handle.write(chunk);
      }
      await handle.close();
      return id;
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      if (isNodeError(err) && err.code === 'ENOSPC') throw new AppError('disk-full', 'The disk is full; free some space and upload again.');
      throw err;
    }
  }

  /** Removes expired uploads; the bytes the rest hold. */
  private sweep(): number {
    let held = 0;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      const { mtimeMs, size } = statSync(path);
      if (Date.now() - mtimeMs > this.limits.expireMs) rmSync(path, { force: true });
      else held += size;
    }
    return held;
  }

  /**
   * An upload used where it lies (a concept file read by path), then dropped: `use` gets its path, and
   * the upload is gone afterwards whether `use` succeeded or not, like a photo's after `take`.
   */
  async useInPlace<T>(id: string, use: (path: string) => Promise<T>): Promise<T> {
    const path = join(this.dir, id);
    if (!existsSync(path)) throw new AppError('not-found', `Upload ${id} has expired or was already imported; add the file again.`);
    try {
      return await use(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  /** The upload as a photo to import; reading it consumes it. */
  take(id: string, name: string): PhotoInput {
    const path = join(this.dir, id);
    return {
      name,
      read: async (maxBytes) => {
        try {
          const handle = await open(path, 'r');
          try {
            const { size } = await handle.stat();
            if (size > maxBytes) throw new AppError('too-large', `${name} is larger than the ${Math.round(maxBytes / 1024 / 1024)} MB import limit.`);
            return await handle.readFile();
          } finally {
            await handle.close();
          }
        } catch (err) {
          if (isNodeError(err) && err.code === 'ENOENT')
            throw new AppError('not-found', `Upload ${id} has expired or was already imported; add the file again.`);
          throw err;
        } finally {
          await rm(path, { force: true });
        }
      },
    };
  }
}
