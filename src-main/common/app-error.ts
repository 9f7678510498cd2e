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
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}

export function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
