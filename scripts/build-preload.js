// The preload runs sandboxed, where only 'electron' can be required: bundle it (and the bits of the contract it uses) into one file.
import { build } from 'esbuild';

await build({
  entryPoints: ['src-preload/index.ts'],
  outfile: 'out/preload/index.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['electron'],
  sourcemap: true,
  logLevel: 'warning',
});
