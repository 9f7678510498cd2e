// The parts of `npm run build`, each with the sources it is built from and a stamp its build leaves, so
// `npm start` rebuilds only what changed. Run as a script (`npm run build`), it builds every part.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PARTS = [
  {
    script: 'build:main',
    sources: ['src-main', 'src-preload', 'resources', 'tsconfig.base.json', 'scripts/copy-assets.js'],
    output: 'out/src-main/cli/bin.js',
  },
  { script: 'build:preload', sources: ['src-preload', 'scripts/build-preload.js'], output: 'out/preload/index.cjs' },
  { script: 'build:renderer', sources: ['src-renderer', 'src-preload', 'tsconfig.base.json'], output: 'out/renderer/index.html' },
  // an addon that cannot build is allowed (each has a fallback), so its output is not required
  { script: 'build:native', sources: ['native', 'scripts/build-native.js'], output: null },
];

// stamps live with npm's caches, not in out/ (which is packaged as it is)
const stampPath = (root, part) => join(root, 'node_modules', '.cache', 'singleinsert-build', part.script.replace(':', '-'));

/** The newest modification time of the files under `path` (native addons' build folders left out). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // a folder's own time changes when a build writes into it: only files count
  let latest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'build' || entry.name === 'node_modules') continue;
    latest = Math.max(latest, newest(join(path, entry.name)));
  }
  return latest;
}

/** The parts with a source newer than their last build (or never built). */
export function staleParts(root) {
  return PARTS.filter((part) => {
    const stamp = stampPath(root, part);
    if (!existsSync(stamp) || (part.output && !existsSync(join(root, part.output)))) return true;
    return Math.max(...part.sources.map((s) => newest(join(root, s)))) > statSync(stamp).mtimeMs;
  });
}

/** Marks a part built as of `startedMs` (a source saved during the build stays newer than the stamp). */
function stamp(root, part, startedMs) {
  const path = stampPath(root, part);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  const at = new Date(startedMs);
  utimesSync(path, at, at);
}

/** Runs each part's build script and stamps it; stops the process with the script's status if one fails. */
export function buildParts(root, parts) {
  for (const part of parts) {
    const started = Date.now();
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '-s', part.script], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`${part.script} failed.`);
      process.exit(r.status ?? 1);
    }
    stamp(root, part, started);
  }
}

// `npm run build`: every part
if (process.argv[1] === fileURLToPath(import.meta.url)) buildParts(fileURLToPath(new URL('..', import.meta.url)), PARTS);
