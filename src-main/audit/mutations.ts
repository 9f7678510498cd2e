// What hostile or unlucky input looks like, seeded so a failing case can be replayed: byte mutations of a
// valid file, malformed JSON values, and the test for an error message a person cannot act on.
// The fuzz suite (CI) and the hostile-input audit (`npm run audit:hostile`) share them.
import type { SeededRandom } from '../graph/random.js';

/** Byte-level mutations between `from` and `to`: flips, overwrites, cuts, repeats, inserted junk. */
export function mutateBytes(r: SeededRandom, bytes: Buffer, from = 0, to = bytes.length): Buffer {
  const b = Buffer.from(bytes);
  switch (r.int(0, 5)) {
    case 0:
      for (let i = 0, n = r.int(1, 16); i < n; i++) {
        const at = r.int(from, to);
        b[at] = b[at]! ^ (1 << r.int(0, 8));
      }
      return b;
    case 1:
      for (let i = 0, n = r.int(1, 8); i < n; i++) b[r.int(from, to)] = r.int(0, 256);
      return b;
    case 2:
      return b.subarray(0, r.int(0, b.length));
    case 3: {
      const at = r.int(from, to);
      return Buffer.concat([b.subarray(0, at), b.subarray(r.int(from, to)), b.subarray(at)]);
    }
    default: {
      const at = r.int(from, to);
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: r.int(1, 64) }, () => r.int(0, 256))), b.subarray(at)]);
    }
  }
}

const JUNK_STRINGS = ['', 'x', '../../etc/passwd', 'img_zzzzzzzz', 'con_0123456789', '\u0000', '%%%', '*', '{}'];
const JUNK_KEYS = [
  'id',
  'imageId',
  'classWord',
  'sources',
  'path',
  'kind',
  'settings',
  'composition',
  'prompt',
  'model',
  'name',
  'steps',
  'maskPng',
  'tags',
  '__proto__',
  'constructor',
];

/** A random JSON value of the shapes malformed payloads take (keys the contract uses, prototype names, extremes). */
export function junkValue(r: SeededRandom, depth = 0): unknown {
  switch (r.int(0, depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return r.int(-1e9, 1e9) / (r.int(0, 2) ? 1 : 7);
    case 2:
      return r.int(0, 10) === 0 ? 'a'.repeat(r.int(0, 5000)) : JUNK_STRINGS[r.int(0, JUNK_STRINGS.length)];
    case 3:
      return r.int(0, 2) === 1;
    case 4:
      return [Number.MAX_SAFE_INTEGER, -0, 1e308, -1e308, 0.5][r.int(0, 5)];
    case 5:
      return undefined;
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => junkValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(0, 5) }, () => [JUNK_KEYS[r.int(0, JUNK_KEYS.length)]!, junkValue(r, depth + 1)]));
  }
}

/** A message that leaks the program's insides instead of telling the user what to do. */
export const UNCLEAR_MESSAGE =
  /Unexpected error|\n\s+at |Cannot read properties|is not a function|is not iterable|\[object Object\]|converted to a BigInt|\[[^\]]*(,,|NaN)[^\]]*\]/;
