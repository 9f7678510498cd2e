import { randomBytes } from 'node:crypto';

export type IdPrefix = 'img' | 'con' | 'msk' | 'job' | 'run' | 'gen' | 'mod' | 'upl' | 'cmp' | 'evl';

/** Short, typed, url-safe ids: `img_3f9a1c0b2d4e`. */
export function newId(prefix: IdPrefix, bytes = 6): string {
  return `${prefix}_${randomBytes(bytes).toString('hex')}`;
}
