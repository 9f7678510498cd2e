// The source files of a folder and the modules each imports, read from the text (no compiler needed):
// shared by the renderer-import rule and the import-cycle check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const IMPORT = /(import|export)(\s+type)?\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Every .ts, .svelte and .js file under `root`, skipping build output and dependencies. */
export function sourceFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'out' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|svelte|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(root);
  return files;
}

/** The specifiers a file imports; `typeOnly` marks `import type …` / `export type … from`, which vanish at run time. */
export function importsOf(path) {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({ spec: m[3] ?? m[4] ?? m[5], typeOnly: m[2] !== undefined }));
}
