// `npm run -s bench:gpu -- --tiny` as CI's smoke test of the GPU benchmark: it runs on WebGPU without a
// fallback and reports what crosses per step within the 1 MB targets.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src-main/common/project-root.js';

describe('bench:gpu at tiny shapes', () => {
  it('prints sampling and Stage I/II figures, with at most 1 MB a step between host and device', () => {
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'out', 'src-main', 'pipeline', 'sample', 'gpu-bench.js'), '--tiny'], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_PROVIDER: 'webgpu' },
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      provider: string;
      fallback: string | null;
      sampling: { itPerS: number; transfersPerStepAfterFirst: { uploadBytes: number; readbackBytes: number } };
      stage1: { stepMs: number; transfersPerStepAfterFirst: { uploadBytes: number; readbackBytes: number } };
      stage2: { stepMs: number; transfersPerStepAfterFirst: { uploadBytes: number; readbackBytes: number } };
      projectedFaithfulMinutes: number;
    };
    expect(report).toMatchObject({ provider: 'webgpu', fallback: null });
    expect(report.sampling.itPerS).toBeGreaterThan(0);
    expect(report.projectedFaithfulMinutes).toBeGreaterThan(0);
    for (const part of [report.sampling, report.stage1, report.stage2]) {
      const t = part.transfersPerStepAfterFirst;
      expect(t.uploadBytes + t.readbackBytes).toBeLessThan(1 << 20);
    }
  });
});
