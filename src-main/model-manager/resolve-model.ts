import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Library } from '../library/library.js';

/** A model argument: a path on disk, or the id or name of a model installed in `library`. */
export function resolveModel(library: Library, arg: string): { path: string; modelId: string | null } {
  if (existsSync(arg)) return { path: resolve(arg), modelId: null };
  const model = library.models.get(arg);
  return { path: model.path, modelId: model.id };
}

/** The same, opening the library of `dataDir` for the look-up. */
export function resolveModelPath(dataDir: string, arg: string): { path: string; modelId: string | null } {
  if (existsSync(arg)) return { path: resolve(arg), modelId: null };
  const library = Library.open(dataDir);
  try {
    return resolveModel(library, arg);
  } finally {
    library.close();
  }
}
