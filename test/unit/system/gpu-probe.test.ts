import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromAddon, GPU_PROBE_ADDON_PATH, probeGpus } from '../../../src-main/system/gpu-probe.js';
import { tmpDir } from '../../helpers/tmp.js';

const FAKE_NVML = fileURLToPath(new URL('../../fixtures/fake-nvml.c', import.meta.url));
const hasCompiler = spawnSync('cc', ['--version']).status === 0;

/** Runs the built addon in a fresh process, where LD_LIBRARY_PATH decides which NVML dlopen finds. */
function probeInChild(libraryPath: string) {
  const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(GPU_PROBE_ADDON_PATH)}).probe()))`], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: libraryPath },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('GPU probe', () => {
  it('maps addon reports to the contract', () => {
    expect(fromAddon({ available: false, reason: 'no NVIDIA driver (NVML library not found)' })).toEqual({
      nvidia: false,
      driverVersion: null,
      devices: [],
      reason: 'no NVIDIA driver (NVML library not found)',
      probe: 'addon',
    });
  });

  it('answers without crashing on this machine', async () => {
    const report = await probeGpus();
    expect(['addon', 'nvidia-smi', 'none']).toContain(report.probe);
    if (!report.nvidia) expect(report.reason).toMatch(/NVIDIA/);
  });

  describe.runIf(process.platform === 'linux' && existsSync(GPU_PROBE_ADDON_PATH))('native addon (built by npm run build)', () => {
    it('reports "no NVIDIA driver" where NVML cannot be loaded', (ctx) => {
      const report = probeInChild(tmpDir());
      if (report.available) ctx.skip(); // a real driver is installed on this machine, so dlopen finds NVML anyway
      expect(report).toEqual({ available: false, reason: 'no NVIDIA driver (NVML library not found)' });
    });

    it.runIf(hasCompiler)('reads names, memory and the driver version through NVML', () => {
      const dir = tmpDir();
      const build = spawnSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'libnvidia-ml.so.1'), FAKE_NVML], { encoding: 'utf8' });
      expect(build.status, build.stderr).toBe(0);
      expect(probeInChild(dir)).toEqual({
        available: true,
        driverVersion: '555.42.06',
        devices: [
          { index: 0, name: 'NVIDIA Test A100', totalBytes: 80 * 2 ** 30, freeBytes: 2 ** 30 },
          { index: 1, name: 'NVIDIA Test T4', totalBytes: 16 * 2 ** 30, freeBytes: 2 ** 30 },
        ],
      });
    });
  });
});
