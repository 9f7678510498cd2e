// `npm start` (scripts/start.js) runs the app as a child: a signal to it reaches the server, and no
// server is left running on its own (the e2e runs used to leave them behind under PID 1).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src-main/common/process-alive.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'si-start-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('passes %s to the server it started and exits with it', async (signal) => {
    const starter = spawn(process.execPath, ['scripts/start.js', '--web', '--data-dir', join(root, signal)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
});
