import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with `npm run lint`
import { findForbiddenRendererImports } from '../../../scripts/check-renderer-imports.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('renderer import rule', () => {
  it('finds no Node or main-process import in src-renderer', () => {
    expect(findForbiddenRendererImports()).toEqual([]);
  });

  it('catches one when it is there', () => {
    const root = tmpDir();
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'bad.ts'), "import { readFileSync } from 'node:fs';\nimport Database from 'better-sqlite3';\n");
    writeFileSync(join(root, 'src', 'Bad.svelte'), "<script>\n  import { ipcRenderer } from 'electron';\n</script>\n");
    expect((findForbiddenRendererImports(root) as string[]).length).toBe(3);
  });
});
