import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Library } from '../library/library.js';

/** A model argument: a path on disk, or the id or name of an installed model. */
export function resolveModelPath(dataDir: string, arg: string): { path: string; modelId: string | null } {
  if (existsSync(arg)) return { path: resolve(arg), modelId: null };
  const library = Library.open(dataDir);
  try {
    const model = library.getModel(arg);
    return { path: model.path, modelId: model.id };
  } finally {
    library.close();
  }
}
