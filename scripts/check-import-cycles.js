// No two modules may import each other, directly or round a longer loop: a cycle makes load order decide
// which module sees the other half-initialised. `import type` is left out (it vanishes at run time).
// Run by `npm run lint`; test/unit/lint/import-cycles.test.ts shows it finds one.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importsOf, sourceFiles } from './import-graph.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CHECKED = ['src-main', 'src-preload', 'src-renderer/src', 'scripts', 'test', 'bin'];

/** The file a relative specifier names (TypeScript's `.js` written for a `.ts` file), or null. */
function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && /\.(ts|svelte|js)$/.test(c)) ?? null;
}

/** Each cycle (a strongly connected set of two or more modules, or one importing itself) as a list of paths. */
export function findImportCycles(roots = CHECKED.map((r) => join(ROOT, r)).filter(existsSync)) {
  const edges = new Map();
  for (const file of roots.flatMap(sourceFiles)) {
    const targets = importsOf(file)
      .filter((i) => !i.typeOnly)
      .map((i) => resolveSpec(file, i.spec))
      .filter(Boolean);
    edges.set(file, [...new Set(targets)]);
  }
  // Tarjan's strongly connected components, iteratively (deep import chains would overflow a recursive walk)
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  let next = 0;
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const [node, i] = frame;
      const targets = edges.get(node) ?? [];
      if (i < targets.length) {
        frame[1]++;
        const t = targets[i];
        if (!edges.has(t)) continue;
        if (!index.has(t)) {
          index.set(t, next);
          low.set(t, next++);
          stack.push(t);
          onStack.add(t);
          work.push([t, 0]);
        } else if (onStack.has(t)) low.set(node, Math.min(low.get(node), index.get(t)));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(component.map((p) => relative(ROOT, p)).sort());
      }
    }
  }
  return cycles;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cycles = findImportCycles();
  if (cycles.length) {
    console.error(
      `Import cycles (each line a set of modules that import each other; move what they share to a module both import):\n${cycles.map((c) => `  ${c.join(' ⇄ ')}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log('import cycles: none');
}
