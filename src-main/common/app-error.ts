import type { ApiError, ErrorCode } from '../../src-preload/contract/common.js';

/** An error whose message a person can act on; anything else is reported as 'internal'. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  if (isNodeError(err) && (err.code === 'ENOSPC' || err.code === 'EDQUOT')) {
    return { code: 'disk-full', message: `The disk is full (${err.code}); free some space and try again. Nothing was changed.` };
  }
  const file = fileError(err);
  if (file) return { code: file.code, message: file.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}

export function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/** What the operating system said about a path, in words (the path is one the person gave, or the library's). */
const FILE_ERRORS: Record<string, { code: ErrorCode; words: (path: string) => string }> = {
  ENOENT: { code: 'not-found', words: (p) => `No such file: ${p}` },
  ENOTDIR: { code: 'not-found', words: (p) => `No such file: ${p} (a part of the path is not a folder)` },
  ELOOP: { code: 'invalid-input', words: (p) => `${p} is a symbolic link that leads back to itself.` },
  ENAMETOOLONG: { code: 'invalid-input', words: (p) => `${p} has a name too long for this system.` },
  EACCES: { code: 'invalid-input', words: (p) => `No permission to read ${p}.` },
  EPERM: { code: 'invalid-input', words: (p) => `No permission to read ${p}.` },
  EISDIR: { code: 'invalid-input', words: (p) => `${p} is a folder, not a file.` },
  EROFS: { code: 'invalid-input', words: (p) => `${p} is on a read-only disk.` },
  EMFILE: { code: 'invalid-input', words: (p) => `${p} could not be opened: too many files are open; close some programs and try again.` },
};

/** A file-system error as a sentence about its path (`path` where the error does not carry one); undefined for other errors. */
export function fileError(err: unknown, path?: string): AppError | undefined {
  if (!isNodeError(err) || !err.code) return undefined;
  const known = FILE_ERRORS[err.code];
  const where = err.path ?? path;
  return known ? new AppError(known.code, where ? known.words(where) : `A file could not be used (${err.code}).`, { cause: err }) : undefined;
}
