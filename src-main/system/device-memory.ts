// The memory a run may plan with on the device that runs it, and where that figure comes from (the run's log
// says): the CPU's available memory; an NVIDIA GPU's free memory (NVML); another GPU's free memory by its
// Vulkan driver's budget (VK_EXT_memory_budget). An integrated GPU shares the system's memory, and a software
// adapter (lavapipe) is the CPU, so both are bounded by what the system has free.
import type { ExecutionProvider, GpuAdapter } from '../../src-preload/contract/index.js';
import { availableMemory } from '../graph/runtime/memory-plan.js';
import { probeAdapters, webgpuAdapter } from './gpu-adapters.js';
import { probeGpus } from './gpu-probe.js';

export interface DeviceMemory {
  /** Bytes free for the run now. */
  freeBytes: number;
  /** Where the figure comes from, for the log ("free memory of NVIDIA GeForce RTX 4090 (NVML)"). */
  source: string;
}

const NVIDIA_VENDOR_ID = 0x10de;

export async function deviceMemory(provider: ExecutionProvider): Promise<DeviceMemory> {
  const system = (): DeviceMemory => ({ freeBytes: availableMemory(), source: 'available system memory' });
  if (provider === 'cpu') return system();
  const nvml = async (): Promise<DeviceMemory | null> => {
    const gpu = (await probeGpus()).devices[0];
    return gpu ? { freeBytes: gpu.freeBytes, source: `free memory of ${gpu.name} (NVML)` } : null;
  };
  if (provider === 'cuda') return (await nvml()) ?? { ...system(), source: "available system memory (NVML did not answer, so the GPU's is not known)" };
  const adapter = webgpuAdapter(probeAdapters().adapters, { allowCpu: true });
  if (!adapter) return { ...system(), source: "available system memory (WebGPU's adapter is not known)" };
  if (adapter.vendorId === NVIDIA_VENDOR_ID) {
    const measured = await nvml();
    if (measured) return measured;
  }
  return fromAdapter(adapter, availableMemory());
}

/** A Vulkan adapter's free memory, bounded by the system's where it shares it. */
export function fromAdapter(a: GpuAdapter, systemFree: number): DeviceMemory {
  if (a.type === 'cpu') return { freeBytes: systemFree, source: `available system memory (${a.name} runs on the CPU)` };
  const shared = a.type === 'integrated';
  if (a.freeBytes !== null) {
    return shared
      ? { freeBytes: Math.min(a.freeBytes, systemFree), source: `free memory of ${a.name} (its driver's budget; shared with the system)` }
      : { freeBytes: a.freeBytes, source: `free memory of ${a.name} (its driver's budget)` };
  }
  if (shared) return { freeBytes: Math.min(a.deviceLocalBytes, systemFree), source: `memory of ${a.name}, shared with the system` };
  return {
    freeBytes: a.deviceLocalBytes,
    source: `all memory of ${a.name} (its driver does not say what is free, so other programs' use is not counted)`,
  };
}
