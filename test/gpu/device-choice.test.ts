// What `auto` picks: WebGPU on a real GPU; never a software rasteriser (lavapipe's llvmpipe) unless asked.
import { afterEach, describe, expect, it } from 'vitest';
import { ALLOW_CPU_ADAPTER_ENV, chooseDevice } from '../../src-main/system/device-choice.js';
import { probeAdapters } from '../../src-main/system/gpu-adapters.js';

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
});
