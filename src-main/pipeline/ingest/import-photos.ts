import { basename } from 'node:path';
import type { ImportResult } from '../../../src-preload/contract/index.js';
import { AppError, toApiError } from '../../common/app-error.js';
import { sha256Of } from '../../library/file-store.js';
import type { Library } from '../../library/library.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits, normalizePhoto } from './normalize-photo.js';
import { openRegular } from '../../common/regular-file.js';

/** A photo to import: its display name and a way to read its bytes. */
export interface PhotoInput {
  name: string;
  read: (maxBytes: number) => Promise<Buffer>;
}

export interface ImportProgress {
  done: number;
  total: number;
  message: string;
}

export function photoFromPath(path: string): PhotoInput {
  return { name: basename(path), read: (maxBytes) => readBounded(path, maxBytes) };
}

/**
 * Imports photos one at a time. Each one either lands completely (files + rows)
 * or leaves nothing; a bad file does not stop the others. Cancelling stops before the next file.
 */
export async function importPhotos(
  library: Library,
  photos: PhotoInput[],
  options: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void; limits?: IngestLimits } = {},
): Promise<ImportResult[]> {
  const limits = options.limits ?? DEFAULT_INGEST_LIMITS;
  const results: ImportResult[] = [];
  for (const [i, photo] of photos.entries()) {
    options.onProgress?.({ done: i, total: photos.length, message: `Importing ${photo.name}` });
    if (options.signal?.aborted) throw new AppError('cancelled', `Import cancelled after ${i} of ${photos.length} files.`);
    results.push(await importOne(library, photo, limits));
  }
  options.onProgress?.({ done: photos.length, total: photos.length, message: 'Import finished' });
  return results;
}

async function importOne(library: Library, photo: PhotoInput, limits: IngestLimits): Promise<ImportResult> {
  try {
    const bytes = await photo.read(limits.maxFileBytes);
    const sourceSha256 = sha256Of(bytes);
    const known = library.images.findBySource(sourceSha256);
    if (known) return { status: 'duplicate', name: photo.name, image: known };
    const n = await normalizePhoto(bytes, limits);
    const { image, duplicate } = await library.images.add(
      {
        name: photo.name,
        sourceSha256,
        sourceFormat: n.sourceFormat,
        sourceWidth: n.sourceWidth,
        sourceHeight: n.sourceHeight,
        image: { sha256: sha256Of(n.png), size: n.png.byteLength, mime: 'image/png', width: n.width, height: n.height },
        thumb: { sha256: sha256Of(n.thumb), size: n.thumb.byteLength, mime: 'image/webp' },
      },
      { image: n.png, thumb: n.thumb },
    );
    return { status: duplicate ? 'duplicate' : 'imported', name: photo.name, image };
  } catch (err) {
    return { status: 'failed', name: photo.name, error: toApiError(err) };
  }
}

/** Reads a file, refusing it before reading when it is larger than `maxBytes`. */
async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  // a pipe, device or socket is refused before it is opened: a read from one could block for ever
  const handle = await openRegular(path, 'a photo');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new AppError(
        'too-large',
        `${basename(path)} is ${(size / 1024 / 1024).toFixed(0)} MB; photos up to ${(maxBytes / 1024 / 1024).toFixed(0)} MB can be imported.`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
