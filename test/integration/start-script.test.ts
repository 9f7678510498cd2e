// `npm start` (scripts/start.js) runs the app as a child: a signal to it reaches the server, and no
// server is left running on its own (the e2e runs used to leave them behind under PID 1).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src-main/common/process-alive.js';
// @ts-expect-error plain JS module shared with `npm start` and `npm run build`
import { PARTS, staleParts } from '../../scripts/build-parts.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'si-start-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('passes %s to the server it started and exits with it', async (signal) => {
    const starter = spawn(process.execPath, ['scripts/start.js', '--web', '--no-build', '--data-dir', join(root, signal)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      starter.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/token=/.test(out)) resolve();
      });
      starter.once('exit', () => reject(new Error(`start.js ended early: ${out}`)));
    });
    const server = Number(execFileSync('ps', ['--ppid', String(starter.pid), '-o', 'pid='], { encoding: 'utf8' }).trim());
    expect(processAlive(server)).toBe(true);
    const exited = new Promise<number | null>((resolve) => starter.once('exit', (code) => resolve(code)));
    starter.kill(signal);
    expect(await exited).toBe(0); // the server shut down cleanly and start.js took its status
    for (let i = 0; i < 50 && processAlive(server); i++) await new Promise((r) => setTimeout(r, 100));
    expect(processAlive(server)).toBe(false);
  });

  it('builds only the parts whose output is missing or whose sources changed since their stamp', () => {
    const tree = join(root, 'tree');
    mkdirSync(join(tree, 'src-renderer'), { recursive: true });
    writeFileSync(join(tree, 'src-renderer', 'App.svelte'), '');
    const names = () => (staleParts(tree) as Array<{ script: string }>).map((p) => p.script);
    expect(names()).toEqual(['build:main', 'build:preload', 'build:renderer', 'build:native']); // never built
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(tree, 'src-renderer', 'App.svelte'), old, old);
    for (const part of PARTS as Array<{ script: string; output: string | null }>) {
      if (part.output) {
        mkdirSync(dirname(join(tree, part.output)), { recursive: true });
        writeFileSync(join(tree, part.output), '');
      }
      const stamp = join(tree, 'node_modules', '.cache', 'singleinsert-build', part.script.replace(':', '-'));
      mkdirSync(dirname(stamp), { recursive: true });
      writeFileSync(stamp, '');
      const built = new Date(old.getTime() + 1000); // after the sources, well before the change below
      utimesSync(stamp, built, built);
    }
    expect(names()).toEqual([]);
    writeFileSync(join(tree, 'src-renderer', 'App.svelte'), 'changed'); // newer than its stamp
    expect(names()).toEqual(['build:renderer']);
    rmSync(join(tree, 'out', 'preload'), { recursive: true });
    expect(names()).toEqual(['build:preload', 'build:renderer']);
  });
});
