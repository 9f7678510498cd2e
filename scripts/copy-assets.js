// tsc emits only JavaScript; the SQL migrations travel beside the compiled library code.
import { cpSync } from 'node:fs';

cpSync('src-main/library/migrations', 'out/src-main/library/migrations', { recursive: true, filter: (p) => !p.endsWith('.ts') });
