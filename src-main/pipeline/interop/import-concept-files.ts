// One way in for concept files, whatever wrote them: a .siconcept bundle (a zip, known by its first
// bytes, since a web upload has no file name on disk) is imported whole; embeddings and LoRAs of other
// tools, or a concept file, become a concept (a LoRA alone: a style concept).
import { closeSync, readSync } from 'node:fs';
import { AppError } from '../../common/app-error.js';
import { openRegularSync } from '../../common/regular-file.js';
import type { Library } from '../../library/library.js';
import { importBundle } from './concept-bundle.js';
import { importConcept } from './concept-exchange.js';

function isZip(path: string): boolean {
  const fd = openRegularSync(path, 'a concept file');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    closeSync(fd);
  }
}

export async function importConceptFiles(
  library: Library,
  paths: readonly string[],
  options: { classWord?: string; name?: string } = {},
): Promise<{ conceptId: string; notes: string[] }> {
  const bundles = paths.filter(isZip);
  if (bundles.length && paths.length > 1) throw new AppError('invalid-input', 'A .siconcept bundle holds a whole concept: import it on its own.');
  if (bundles.length) return importBundle(library, bundles[0]!);
  return importConcept(library, paths, { classWord: options.classWord ?? '', ...(options.name ? { name: options.name } : {}) });
}
