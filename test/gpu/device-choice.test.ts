// What `auto` picks: WebGPU on a real GPU; never a software rasteriser (lavapipe's llvmpipe) unless asked.
import { afterEach, describe, expect, it } from 'vitest';
import { ALLOW_CPU_ADAPTER_ENV, chooseDevice } from '../../src-main/system/device-choice.js';
import { probeAdapters, webgpuAdapter } from '../../src-main/system/gpu-adapters.js';
import { computePrecision } from '../../src-main/system/compute-precision.js';
import { deviceMemory } from '../../src-main/system/device-memory.js';
import { availableMemory } from '../../src-main/graph/runtime/memory-plan.js';

describe('the default device', () => {
  afterEach(() => {
    delete process.env[ALLOW_CPU_ADAPTER_ENV];
  });

  it('knows the adapter; takes WebGPU on a hardware one, and a CPU one only when a variable allows it', async () => {
    const { adapters } = probeAdapters();
    expect(adapters.length).toBeGreaterThan(0);
    for (const a of adapters) expect(a.maxStorageBufferRange).toBeGreaterThan(0);
    const auto = await chooseDevice('auto');
    if (adapters.some((a) => a.type !== 'cpu')) {
      expect(auto.provider).toBe('webgpu');
    } else {
      expect(auto.provider).toBe('cpu');
      expect(auto.reason).toMatch(/software rasteriser on the CPU.*on the CPU a 50-step 512² image takes/);
      process.env[ALLOW_CPU_ADAPTER_ENV] = '1';
      expect(await chooseDevice('auto')).toMatchObject({ provider: 'webgpu', label: `WebGPU on ${adapters[0]!.name}` });
    }
    expect(await chooseDevice('cpu')).toMatchObject({ provider: 'cpu', reason: 'CPU was chosen' });
  });

  it("reads the adapter's free memory and float16 support, and plans and computes by them", async () => {
    const { adapters } = probeAdapters();
    const used = webgpuAdapter(adapters, { allowCpu: true })!;
    // lavapipe (and every current desktop driver) has VK_EXT_memory_budget and shader-f16
    expect(used.freeBytes).toBeGreaterThan(0);
    expect(used.freeBytes!).toBeLessThanOrEqual(used.deviceLocalBytes);
    expect(used.float16).toBe(true);
    expect(computePrecision('webgpu')).toMatchObject({ dtype: 'float16', reason: expect.stringContaining(used.name) });
    const memory = await deviceMemory('webgpu');
    expect(memory.freeBytes).toBeGreaterThan(0);
    expect(memory.source).toContain(used.name);
    if (used.type === 'cpu') expect(memory.freeBytes).toBeLessThanOrEqual(availableMemory() * 1.05);
  });
});
