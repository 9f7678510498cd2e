// A training run keeps freed memory for reuse while it runs and gives it back when it ends
// (native/malloc-tune; glibc only). Without the addon, or off glibc, both are no-ops.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/project-root.js';
import { collectGarbage } from './collect-garbage.js';

interface MallocTuneAddon {
  keep(): boolean;
  release(): boolean;
}

const ADDON_PATH = join(PROJECT_ROOT, 'native', 'malloc-tune', 'build', 'Release', 'malloc_tune.node');

const addon: MallocTuneAddon | undefined = (() => {
  if (!existsSync(ADDON_PATH)) return undefined;
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as MallocTuneAddon;
  } catch {
    return undefined;
  }
})();

/** While training: freed blocks stay in the heap for the next step (no page faults on reuse). True if it took effect. */
export const keepFreedMemory = (): boolean => addon?.keep() ?? false;

/** After training: the allocator's defaults again, and the retained memory back to the system. */
export const releaseFreedMemory = (): boolean => addon?.release() ?? false;

/** Between a run's parts: garbage collected, retained memory back to the system, and retention on again. */
export function trimHeap(): void {
  collectGarbage();
  releaseFreedMemory();
  keepFreedMemory();
}
