// The Vulkan adapters of this machine, from the native probe (vulkan_probe.c): which GPU WebGPU would run on,
// and whether it is a real one or a software rasteriser on the CPU.
import type { AdapterReport } from '../../src-preload/contract/index.js';
import { loadGpuProbeAddon } from './gpu-probe.js';

export function probeAdapters(): AdapterReport {
  const addon = loadGpuProbeAddon();
  if (!addon?.vulkanAdapters) return { adapters: [], reason: 'the native GPU probe is not built, so the adapters are not known (npm run build:native)' };
  const r = addon.vulkanAdapters();
  if (!r.available) return { adapters: [], reason: r.reason ?? 'no Vulkan driver' };
  return { adapters: r.adapters ?? [], reason: r.adapters?.length ? null : 'the Vulkan loader found no device' };
}
