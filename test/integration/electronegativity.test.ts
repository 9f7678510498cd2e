// Doyensec's Electronegativity over the Electron side (src-main/app) and the renderer's page: no HIGH
// or MEDIUM finding may appear. A finding a person has reviewed is marked at its line with the scanner's own
// `eng-disable` comment and the reason, so the review sits next to the code it is about.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('Electronegativity', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'si-eg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const electron = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  ).devDependencies.electron!.replace(/^[^\d]*/, '');
  const bin = join(dirname(createRequire(import.meta.url).resolve('@doyensec/electronegativity/package.json')), 'dist', 'index.js');

  function scan(folder: string): { check: string; severity: string; where: string }[] {
    const out = join(folder, '..', `${basename(folder)}.csv`);
    execFileSync(process.execPath, [bin, '-i', folder, '-e', electron, '-o', out], { stdio: 'pipe', timeout: 100_000 });
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    return rows.map(([check, severity, , file, location]) => ({ check: check!, severity: severity!.replaceAll('"', ''), where: `${file}:${location}` }));
  }
  const serious = (findings: ReturnType<typeof scan>) => findings.filter((f) => f.severity === 'HIGH' || f.severity === 'MEDIUM');

  it('finds no HIGH or MEDIUM issue in the Electron code and the renderer page', () => {
    const folder = join(dir, 'app-scan');
    cpSync(join(ROOT, 'src-main', 'app'), join(folder, 'app'), { recursive: true });
    cpSync(join(ROOT, 'src-preload', 'index.ts'), join(folder, 'preload', 'index.ts'));
    cpSync(join(ROOT, 'src-renderer', 'index.html'), join(folder, 'renderer', 'index.html'));
    expect(serious(scan(folder))).toEqual([]);
  });

  it('does report the same window with its hardening and review comment removed (the scan can fail)', () => {
    const folder = join(dir, 'weakened-scan');
    mkdirSync(folder, { recursive: true });
    const main = readFileSync(join(ROOT, 'src-main', 'app', 'main.ts'), 'utf8')
      .replace('sandbox: true', 'sandbox: false')
      .replace(/ *\/\/ eng-disable PRELOAD_JS_CHECK/, '');
    writeFileSync(join(folder, 'main.ts'), main);
    const checks = serious(scan(folder)).map((f) => f.check);
    expect(checks).toContain('SANDBOX_JS_CHECK');
    expect(checks).toContain('PRELOAD_JS_CHECK');
  });
});
