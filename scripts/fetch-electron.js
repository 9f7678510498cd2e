// On a connected machine: download Electron's binary (skipped by `npm ci`, see allowScripts in
// package.json) and build better-sqlite3 for Electron's ABI into build-electron/ beside the
// Node build, which src-main/library/database.ts loads when running inside Electron.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const run = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(
      `\nfetch:electron failed at: ${cmd} ${argv.join(' ')}\nThis step needs internet access (github.com for Electron, electronjs.org for its headers).`,
    );
    process.exit(1);
  }
};

// Electron's installer (@electron/get, @electron-internal/extract-zip) declares Node >= 22.12
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `fetch:electron needs Node.js 22.12 or newer (Electron's downloader requires it); this is Node ${process.versions.node}. ` +
      'The tests, the CLI and web mode (npm start) run on Node 20.19 and need no Electron.',
  );
  process.exit(1);
}

const electronDir = dirname(require.resolve('electron/package.json'));
const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
console.log(`Downloading Electron ${version}…`);
run(process.execPath, [join(electronDir, 'install.js')], { env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' } });

console.log(`Building better-sqlite3 for Electron ${version}…`);
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const work = join(sqliteDir, '.electron-build');
rmSync(work, { recursive: true, force: true });
mkdirSync(work);
for (const entry of ['binding.gyp', 'src', 'deps', 'package.json']) cpSync(join(sqliteDir, entry), join(work, entry), { recursive: true });
const gyp =
  process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(gyp)) {
  console.error('node-gyp was not found; install it with `npm i -g node-gyp` and run this again.');
  process.exit(1);
}
run(process.execPath, [gyp, 'rebuild', '--release', `--target=${version}`, '--dist-url=https://electronjs.org/headers', `--arch=${process.arch}`], {
  cwd: work,
});
rmSync(join(sqliteDir, 'build-electron'), { recursive: true, force: true });
cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), join(sqliteDir, 'build-electron', 'Release', 'better_sqlite3.node'));
rmSync(work, { recursive: true, force: true });
console.log('Done. `npm start` now opens the desktop window.');
