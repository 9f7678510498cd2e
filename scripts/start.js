// `npm start`: the Electron app where Electron's binary is installed, else web mode in the browser.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const forceWeb = args.includes('--web');

function electronBinary() {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const binary = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const electron = forceWeb ? undefined : electronBinary();
if (electron) {
  spawn(electron, ['.'], { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 0));
} else {
  if (!forceWeb) {
    console.log('Electron is not installed here, so the app runs in web mode (your browser).');
    console.log('To get the desktop window, on a machine with internet access run: npm run fetch:electron\n');
  }
  const passThrough = args.filter((a) => a !== '--web');
  spawn(process.execPath, ['out/src-main/server/main.js', ...passThrough], { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 0));
}
