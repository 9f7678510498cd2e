import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the app's package.json, found from src-main/ (tests) and out/ (built) alike. */
export const PROJECT_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'singleinsert-studio') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('SingleInsert Studio: could not find the app folder (package.json).');
    dir = parent;
  }
})();

/**
 * A packaged file's path as native code must open it: files the package keeps unpacked (electron-builder's
 * asarUnpack) live in app.asar.unpacked, which onnxruntime and other native readers can open; JavaScript's
 * fs reads either. Paths outside a package come back unchanged.
 */
export const onDisk = (path: string): string => path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
