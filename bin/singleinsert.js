#!/usr/bin/env node
// Entry point of the `singleinsert` command; the code lives in src-main/cli (built to out/).
import { existsSync } from 'node:fs';

const entry = new URL('../out/src-main/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('singleinsert: the app is not built yet; run `npm run build` in the app folder first.\n');
  process.exit(1);
}
await import(entry.href);
