import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with `npm run lint`
import { findImportCycles } from '../../../scripts/check-import-cycles.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('import-cycle check', () => {
  it('finds none in the tree', () => {
    expect(findImportCycles()).toEqual([]);
  });

  it('finds a loop of three modules, and leaves out imports of types only', () => {
    const root = tmpDir();
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
    writeFileSync(join(root, 'src', 'b.ts'), "import { c } from './c.js';\nexport const b = () => c;\n");
    writeFileSync(join(root, 'src', 'c.ts'), "import { a } from './a.js';\nexport const c = () => a;\n");
    writeFileSync(join(root, 'src', 'd.ts'), "import type { e } from './e.js';\nexport const d = (x: typeof e) => x;\n");
    writeFileSync(join(root, 'src', 'e.ts'), "import { d } from './d.js';\nexport const e = d;\n");
    const cycles = findImportCycles([root]) as string[][];
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.map((p) => p.split('/').at(-1))).toEqual(['a.ts', 'b.ts', 'c.ts']);
  });
});
