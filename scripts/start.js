// `npm start`: the Electron app where Electron's binary is installed, else web mode in the browser.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildParts, staleParts } from './build-parts.js';

const args = process.argv.slice(2);
const forceWeb = args.includes('--web');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds what changed since the last build, and says what it did. */
function buildWhatChanged() {
  const stale = staleParts(ROOT);
  if (stale.length === 0) {
    console.log('Starting from the last build: no source changed since (npm run build rebuilds everything).');
    return;
  }
  console.log(`Building what changed: ${stale.map((p) => p.script).join(', ')}…`);
  buildParts(ROOT, stale);
}

if (!args.includes('--no-build')) buildWhatChanged();

function electronBinary() {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const binary = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the app as a child that lives and dies with this process: Ctrl+C, `kill` or a closing terminal
 * reach it too (no server left behind under PID 1), and this process exits with the child's status.
 */
function runChild(command, childArgs) {
  const child = spawn(command, childArgs, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 0)));
  child.on('error', (err) => {
    console.error(`Could not start ${command}: ${err.message}`);
    process.exit(1);
  });
}

const electron = forceWeb ? undefined : electronBinary();
if (electron) {
  runChild(electron, ['.']);
} else {
  if (!forceWeb) {
    console.log('Electron is not installed here, so the app runs in web mode (your browser).');
    console.log('To get the desktop window, on a machine with internet access run: npm run fetch:electron\n');
  }
  const passThrough = args.filter((a) => a !== '--web' && a !== '--no-build');
  runChild(process.execPath, ['out/src-main/server/main.js', ...passThrough]);
}
