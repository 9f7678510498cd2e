import { mkdirSync, rmSync } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isNodeError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { PhotoInput } from '../pipeline/ingest/import-photos.js';

/**
 * Web mode's browser cannot hand over file paths, so photos are uploaded first
 * and imported by upload id. Uploads are temporary: removed after use and at start-up.
 */
export class UploadStore {
  constructor(private readonly dir: string) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  async save(bytes: Uint8Array): Promise<string> {
    const id = newId('upl', 10);
    try {
      await writeFile(join(this.dir, id), bytes, { flag: 'wx' });
    } catch (err) {
      await rm(join(this.dir, id), { force: true });
      if (isNodeError(err) && err.code === 'ENOSPC') throw new AppError('disk-full', 'The disk is full; free some space and upload again.');
      throw err;
    }
    return id;
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
          if (isNodeError(err) && err.code === 'ENOENT') throw new AppError('not-found', `Upload ${id} has expired or was already imported; add the file again.`);
          throw err;
        } finally {
          await rm(path, { force: true });
        }
      },
    };
  }
}
