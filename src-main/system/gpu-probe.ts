import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GpuAdapter, GpuReport } from '../../src-preload/contract/index.js';
import { PROJECT_ROOT } from '../common/project-root.js';

/** What native/gpu-probe returns (see native/gpu-probe/src/gpu_probe.c). */
interface AddonReport {
  available: boolean;
  reason?: string;
  driverVersion?: string;
  devices?: Array<{ index: number; name: string; totalBytes: number; freeBytes: number }>;
}

interface GpuProbeAddon {
  probe(): AddonReport;
  /** Absent from addons built before it was added (gpu-adapters.ts says so). */
  vulkanAdapters?(): { available: boolean; reason?: string; adapters?: Array<Omit<GpuAdapter, 'freeBytes'> & { freeBytes: number | null }> };
}

export const GPU_PROBE_ADDON_PATH = join(PROJECT_ROOT, 'native', 'gpu-probe', 'build', 'Release', 'gpu_probe.node');

export function loadGpuProbeAddon(path = GPU_PROBE_ADDON_PATH): GpuProbeAddon | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return createRequire(import.meta.url)(path) as GpuProbeAddon;
  } catch {
    return undefined;
  }
}

/**
 * NVIDIA GPUs present, through NVML. The native addon is preferred; where it could
 * not be built, nvidia-smi (shipped with the driver) answers instead.
 */
export async function probeGpus(options: { addonPath?: string } = {}): Promise<GpuReport> {
  const addon = loadGpuProbeAddon(options.addonPath);
  if (addon) return fromAddon(addon.probe());
  return probeWithNvidiaSmi();
}

export function fromAddon(r: AddonReport): GpuReport {
  if (!r.available) {
    return { nvidia: false, driverVersion: null, devices: [], reason: r.reason ?? 'no NVIDIA driver', probe: 'addon' };
  }
  return { nvidia: true, driverVersion: r.driverVersion ?? null, devices: r.devices ?? [], reason: null, probe: 'addon' };
}

async function probeWithNvidiaSmi(): Promise<GpuReport> {
  try {
    const { stdout } = await promisify(execFile)(
      'nvidia-smi',
      ['--query-gpu=index,name,memory.total,memory.free,driver_version', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
    );
    const devices = stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(',').map((s) => s.trim()))
      .map(([index, name, total, free]) => ({
        index: Number(index),
        name: name ?? 'NVIDIA GPU',
        totalBytes: Number(total) * 1024 * 1024,
        freeBytes: Number(free) * 1024 * 1024,
      }));
    const driverVersion = stdout.split('\n')[0]?.split(',')[4]?.trim() ?? null;
    return { nvidia: devices.length > 0, driverVersion, devices, reason: devices.length ? null : 'no NVIDIA GPU found', probe: 'nvidia-smi' };
  } catch {
    return { nvidia: false, driverVersion: null, devices: [], reason: 'no NVIDIA driver (NVML not found)', probe: 'none' };
  }
}
