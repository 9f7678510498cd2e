// Builds native/*/ with node-gyp. A failed build is not fatal: each addon has a
// pure-TypeScript fallback (see src-main/system/gpu-probe.ts), and the app says which is in use.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function nodeGypBin() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  for (const candidate of [join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]) if (existsSync(candidate)) return candidate;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

/** Node's own headers when they are installed beside it, so no header download is needed (offline machines). */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const gyp = nodeGypBin();
const nodedir = localNodeDir();
for (const addon of readdirSync('native', { withFileTypes: true }).filter((d) => d.isDirectory())) {
  const dir = join('native', addon.name);
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  if (!gyp) {
    console.warn(`[native] node-gyp not found; ${addon.name} not built (the pure-TS fallback will be used).`);
    continue;
  }
  const r = spawnSync(process.execPath, [gyp, 'rebuild', '--release', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status === 0) console.log(`[native] built ${addon.name}`);
  else console.warn(`[native] ${addon.name} did not build (the pure-TS fallback will be used):\n${(r.stderr || r.stdout).split('\n').slice(-15).join('\n')}`);
}
