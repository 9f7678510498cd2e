// A full garbage collection on demand, for the moment a training stage ends: its buffers (hundreds of
// megabytes of typed arrays) are garbage then, and collecting them before the next stage plans lets the
// allocator give their memory back instead of the next stage counting it as taken.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/** Collects now; false where the runtime does not allow it. */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      // V8 exposes gc() to contexts made after the flag is set
      setFlagsFromString('--expose-gc');
      gc = (runInNewContext('gc') as (() => void) | undefined) ?? null;
    } catch {
      gc = null;
    }
  }
  gc?.();
  return !!gc;
}
