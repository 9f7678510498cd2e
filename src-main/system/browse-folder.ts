// A folder's entries for the path picker: the app's own machine, so a person can pick a model file or folder
// in web mode too, where the browser gives pages no file paths.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { FolderListing } from '../../src-preload/contract/system.js';
import { AppError } from '../common/app-error.js';

const MAX_ENTRIES = 2000;

export function browseFolder(path?: string): FolderListing {
  const folder = path ? resolve(path) : homedir();
  if (path && !isAbsolute(path)) throw new AppError('invalid-input', `${path} is not an absolute path.`);
  let names: import('node:fs').Dirent[];
  try {
    if (!statSync(folder).isDirectory()) throw new AppError('invalid-input', `${folder} is a file, not a folder.`);
    names = readdirSync(folder, { withFileTypes: true });
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not-found', `No folder at ${folder}.`);
    if (code === 'EACCES' || code === 'EPERM') throw new AppError('invalid-input', `${folder} cannot be read (no permission).`);
    throw err;
  }
  const entries = names
    .filter((d) => !d.name.startsWith('.'))
    .flatMap((d) => {
      const full = join(folder, d.name);
      try {
        // links are followed: a models folder is often a link to a bigger disk
        const st = statSync(full);
        return [{ name: d.name, path: full, kind: st.isDirectory() ? ('folder' as const) : ('file' as const), size: st.isDirectory() ? 0 : st.size }];
      } catch {
        return []; // a dangling link or an entry that vanished
      }
    })
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
  const parent = dirname(folder);
  return { path: folder, parent: parent === folder ? null : parent, entries: entries.slice(0, MAX_ENTRIES), truncated: entries.length > MAX_ENTRIES };
}
