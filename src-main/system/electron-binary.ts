import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const ELECTRON_HINT =
  'On a machine with internet access run `npm run fetch:electron` (downloads the Electron binary and builds the native modules for it); until then `npm start` opens the app in the browser (web mode).';

/** Where the Electron binary is, if `npm run fetch:electron` (or a normal online install) put it there. */
export function findElectronBinary(): { installed: boolean; path: string | null; detail: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { installed: false, path: null, detail: `The electron package is not installed. ${ELECTRON_HINT}` };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { installed: false, path: null, detail: `Electron's binary is not downloaded. ${ELECTRON_HINT}` };
  const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { installed: false, path: null, detail: `Electron's binary is missing at ${binary}. ${ELECTRON_HINT}` };
  return { installed: true, path: binary, detail: binary };
}
