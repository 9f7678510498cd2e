import { describe, expect, it } from 'vitest';
import type { GpuAdapter } from '../../../src-preload/contract/index.js';
import { fromAdapter } from '../../../src-main/system/device-memory.js';
import { probeAdapters, webgpuAdapter } from '../../../src-main/system/gpu-adapters.js';
import { computePrecision } from '../../../src-main/system/compute-precision.js';
import { MemoryWatch, memoryFloor } from '../../../src-main/system/memory-watch.js';

const GiB = 2 ** 30;
const adapter = (over: Partial<GpuAdapter>): GpuAdapter => ({
  name: 'GPU',
  vendorId: 0x1002,
  type: 'discrete',
  apiVersion: '1.3.0',
  maxStorageBufferRange: 2 ** 31,
  deviceLocalBytes: 16 * GiB,
  freeBytes: 12 * GiB,
  float16: true,
  ...over,
});

describe('device memory', () => {
  it("a discrete GPU's free memory is its driver's budget; without one, all of it, and the source says so", () => {
    expect(fromAdapter(adapter({}), 4 * GiB)).toEqual({ freeBytes: 12 * GiB, source: "free memory of GPU (its driver's budget)" });
    const unknown = fromAdapter(adapter({ freeBytes: null }), 4 * GiB);
    expect(unknown.freeBytes).toBe(16 * GiB);
    expect(unknown.source).toMatch(/does not say what is free/);
  });

  it('an integrated GPU and a CPU adapter are bounded by the system memory they share', () => {
    expect(fromAdapter(adapter({ type: 'integrated', freeBytes: 8 * GiB }), 3 * GiB).freeBytes).toBe(3 * GiB);
    expect(fromAdapter(adapter({ type: 'integrated', freeBytes: null }), 20 * GiB).freeBytes).toBe(16 * GiB);
    const lavapipe = fromAdapter(adapter({ name: 'llvmpipe', type: 'cpu', freeBytes: 20 * GiB }), 5 * GiB);
    expect(lavapipe).toEqual({ freeBytes: 5 * GiB, source: 'available system memory (llvmpipe runs on the CPU)' });
  });

  it("WebGPU's adapter: discrete first, a CPU one only when allowed", () => {
    const cpu = adapter({ name: 'llvmpipe', type: 'cpu' });
    const igpu = adapter({ name: 'iGPU', type: 'integrated' });
    const dgpu = adapter({ name: 'dGPU' });
    expect(webgpuAdapter([cpu, igpu, dgpu], { allowCpu: false })?.name).toBe('dGPU');
    expect(webgpuAdapter([cpu, igpu], { allowCpu: false })?.name).toBe('iGPU');
    expect(webgpuAdapter([cpu], { allowCpu: false })).toBeUndefined();
    expect(webgpuAdapter([cpu], { allowCpu: true })?.name).toBe('llvmpipe');
  });
});

describe('compute precision', () => {
  it('float32 on the CPU, float16 on CUDA; WebGPU by its adapter (the GPU tests check a real one)', () => {
    expect(computePrecision('cpu')).toEqual({ dtype: 'float32', reason: 'float32 on the CPU' });
    expect(computePrecision('cuda').dtype).toBe('float16');
    const webgpu = computePrecision('webgpu');
    const adapter = webgpuAdapter(probeAdapters().adapters, { allowCpu: true });
    expect(webgpu.dtype).toBe(adapter?.float16 ? 'float16' : 'float32');
    if (!adapter) expect(webgpu.reason).toMatch(/^float32: WebGPU's adapter is not known/);
  });
});

describe('memory watch', () => {
  it('reports the lowest free memory seen between checks when it fell under the floor, then starts afresh', async () => {
    let free = 10 * GiB;
    const watch = new MemoryWatch(() => free, GiB, 5).start();
    try {
      expect(await watch.check()).toBeNull();
      free = 0.4 * GiB;
      await new Promise((r) => setTimeout(r, 30));
      free = 6 * GiB; // recovered before the check: the dip still counts
      expect(await watch.check()).toEqual({ lowestFreeBytes: 0.4 * GiB, floorBytes: GiB });
      expect(await watch.check()).toBeNull();
      expect(watch.lowestSinceStart).toBe(0.4 * GiB); // the stage's lowest stays for its log
    } finally {
      watch.stop();
    }
  });

  it('a failing probe is no pressure; the floor is at least 512 MiB, else 3% of what was free', async () => {
    const watch = new MemoryWatch(() => {
      throw new Error('probe failed');
    }, GiB);
    expect(await watch.check()).toBeNull();
    expect(memoryFloor(4 * GiB)).toBe(512 * 2 ** 20);
    expect(memoryFloor(100 * GiB)).toBe(3 * GiB);
  });
});
