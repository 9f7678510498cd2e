import { AppError } from '../../common/app-error.js';

/** onnxruntime's and V8's ways of saying an allocation failed. */
const ALLOCATION_FAILED = /bad_alloc|Failed to allocate|out of memory|OrtMalloc|Array buffer allocation failed|Invalid typed array length/i;

export const isOutOfMemory = (err: unknown) => ALLOCATION_FAILED.test((err as Error)?.message ?? String(err));

/** An allocation failure during `what` as an error that says what to change; other errors as they are. */
export function explainOutOfMemory(err: unknown, what: string, advice: string): unknown {
  if (!isOutOfMemory(err)) return err;
  const first = ((err as Error).message ?? String(err)).split('\n')[0];
  return new AppError('out-of-memory', `${what} ran out of memory (${first}). Nothing saved was changed. ${advice}`, { cause: err });
}
