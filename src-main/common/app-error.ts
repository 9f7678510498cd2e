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
  const fileProblem = isNodeError(err) ? fileErrorMessage(err) : undefined;
  if (fileProblem) return fileProblem;
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}

export function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/** What the operating system said about a path, in words (the path is one the person gave, or the library's). */
const FILE_ERRORS: Record<string, { code: ErrorCode; says: string }> = {
  ENOENT: { code: 'not-found', says: 'does not exist' },
  ENOTDIR: { code: 'not-found', says: 'does not exist (a part of the path is not a folder)' },
  ELOOP: { code: 'invalid-input', says: 'is a symbolic link that leads back to itself' },
  ENAMETOOLONG: { code: 'invalid-input', says: 'has a name too long for this system' },
  EACCES: { code: 'invalid-input', says: 'cannot be read or written with your permissions' },
  EPERM: { code: 'invalid-input', says: 'cannot be read or written with your permissions' },
  EISDIR: { code: 'invalid-input', says: 'is a folder, not a file' },
  EROFS: { code: 'invalid-input', says: 'is on a read-only disk' },
  EMFILE: { code: 'invalid-input', says: 'could not be opened: too many files are open; close some programs and try again' },
};

function fileErrorMessage(err: NodeJS.ErrnoException): ApiError | undefined {
  const known = err.code ? FILE_ERRORS[err.code] : undefined;
  if (!known) return undefined;
  return { code: known.code, message: err.path ? `${err.path} ${known.says}.` : `A file ${known.says} (${err.code}).` };
}
