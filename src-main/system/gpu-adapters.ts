// The Vulkan adapters of this machine, from the native probe (vulkan_probe.c): which GPU WebGPU would run on,
// and whether it is a real one or a software rasteriser on the CPU.
import type { AdapterReport, GpuAdapter } from '../../src-preload/contract/index.js';
import { loadGpuProbeAddon } from './gpu-probe.js';

export function probeAdapters(): AdapterReport {
  const addon = loadGpuProbeAddon();
  if (!addon?.vulkanAdapters) return { adapters: [], reason: 'the native GPU probe is not built, so the adapters are not known (npm run build:native)' };
  const r = addon.vulkanAdapters();
  if (!r.available) return { adapters: [], reason: r.reason ?? 'no Vulkan driver' };
  const adapters = (r.adapters ?? []).map((a) => ({ ...a, freeBytes: a.freeBytes !== null && a.freeBytes >= 0 ? a.freeBytes : null, float16: a.float16 }));
  return { adapters, reason: adapters.length ? null : 'the Vulkan loader found no device' };
}

/**
 * The adapter WebGPU runs on (it asks for high performance): a discrete GPU first, then another hardware one;
 * a software adapter only when allowed (the GPU tests on lavapipe, or to report what the CPU adapter has).
 */
export function webgpuAdapter(adapters: readonly GpuAdapter[], o: { allowCpu: boolean }): GpuAdapter | undefined {
  const hardware = adapters.filter((a) => a.type !== 'cpu');
  return hardware.find((a) => a.type === 'discrete') ?? hardware[0] ?? (o.allowCpu ? adapters[0] : undefined);
}

/** WebGPU's guaranteed maxStorageBufferBindingSize: onnxruntime's device may not ask the adapter for more. */
const WEBGPU_DEFAULT_BINDING_BYTES = 128 * 2 ** 20;

/**
 * The largest buffer one WebGPU shader binding may take here: the adapters' own limit, at most WebGPU's
 * default. An attention score tensor above it must be split (Graph.attentionScoreLimit).
 */
export function storageBindingLimitBytes(): number {
  const ranges = probeAdapters().adapters.map((a) => a.maxStorageBufferRange);
  return Math.min(...ranges.filter((r) => r > 0), WEBGPU_DEFAULT_BINDING_BYTES);
}
