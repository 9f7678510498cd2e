import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { AppError, isNodeError } from '../common/app-error.js';

export interface DownloadProgress {
  received: number;
  /** Total bytes when the server says; 0 when unknown. */
  total: number;
}

export async function sha256OfFile(path: string, onProgress?: (done: number, total: number) => void): Promise<string> {
  const total = statSync(path).size;
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onProgress?.(done, total);
  }
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest` through `dest.part`: an interrupted download is resumed with an
 * HTTP Range request the next time; the file appears at `dest` only when complete and, if
 * `sha256` is given, verified. A wrong hash deletes the partial file.
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: { sha256?: string; signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
): Promise<{ sha256: string; bytes: number; resumed: boolean }> {
  const part = `${dest}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: have ? { Range: `bytes=${have}-` } : {}, signal: options.signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new AppError('cancelled', 'Download cancelled; run it again to resume.');
    throw new AppError('unavailable', `Could not reach ${new URL(url).host}: ${(err as Error).message}. Check the address and your connection.`);
  }
  if (response.status === 416 && have > 0) {
    // the partial file is already complete
  } else if (!response.ok) {
    throw new AppError('unavailable', `The server answered ${response.status} ${response.statusText} for ${url}.`);
  }
  const resumed = response.status === 206;
  const start = resumed ? have : 0;
  const length = Number(response.headers.get('content-length') ?? 0);
  const total = length ? start + length : 0;
  if (response.status !== 416) {
    const file = await open(part, resumed ? 'a' : 'w');
    let received = start;
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await file.write(value);
        received += value.byteLength;
        options.onProgress?.({ received, total });
      }
    } catch (err) {
      if (isNodeError(err) && err.code === 'ENOSPC')
        throw new AppError('disk-full', `The disk is full after ${received} bytes; free space and run the download again to resume.`);
      throw new AppError(
        'unavailable',
        `The download stopped at ${received}${total ? ` of ${total}` : ''} bytes (${(err as Error).message}). Run it again to resume.`,
      );
    } finally {
      await file.close();
    }
    if (total && received < total) {
      throw new AppError('unavailable', `The download stopped at ${received} of ${total} bytes. Run it again to resume.`);
    }
  }
  const sha256 = await sha256OfFile(part);
  if (options.sha256 && sha256 !== options.sha256.toLowerCase()) {
    rmSync(part, { force: true });
    throw new AppError(
      'corrupt-file',
      `The downloaded file's sha256 is ${sha256}, not the expected ${options.sha256}; it was deleted. Check the URL and the hash, then try again.`,
    );
  }
  renameSync(part, dest);
  return { sha256, bytes: statSync(dest).size, resumed };
}
