import { describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/graph/graph.js';
import { encodeModel } from '../../src-main/graph/onnx/serialize.js';
import * as op from '../../src-main/graph/ops/index.js';
import { DeviceTransfers, disposeTensor, isOnDevice } from '../../src-main/graph/runtime/device-tensors.js';
import { GraphSession } from '../../src-main/graph/runtime/session.js';
import { transfersSince, transferTotals } from '../../src-main/graph/runtime/transfers.js';

describe('device tensors on WebGPU', () => {
  it('upload, chain runs on the device, read back: the CPU’s numbers, and only the bytes that cross are counted', async () => {
    const device = DeviceTransfers.of('webgpu');
    const g = new Graph('chain');
    const x = g.input('x', 'float32', [64, 64]);
    g.output(op.softmax(op.matmul(x, x), -1), 'y');
    const model = encodeModel(g);
    const gpu = await GraphSession.load(model, { provider: 'webgpu', keepOnDevice: true });
    const cpu = await GraphSession.load(model);
    const data = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i) / 8);

    const before = transferTotals();
    const [onDevice] = await device.upload([{ dtype: 'float32', shape: [64, 64], data }]);
    expect(isOnDevice(onDevice!)).toBe(true);
    // twice through the graph without leaving the device
    const once = (await gpu.runOnDevice({ x: onDevice! })).y!;
    const twice = (await gpu.runOnDevice({ x: once })).y!;
    expect(isOnDevice(twice)).toBe(true);
    const [back] = await device.readback([twice]);
    const moved = transfersSince(before);
    expect(moved).toEqual({ uploadBytes: 4096 * 4, readbackBytes: 4096 * 4, uploads: 1, readbacks: 1 });

    const ref = (await cpu.run({ x: (await cpu.run({ x: { dtype: 'float32', shape: [64, 64], data } })).y! })).y!.data as Float32Array;
    const got = back!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
    expect(worst).toBeLessThan(1e-6);
    for (const t of [onDevice!, once, twice]) disposeTensor(t);
    await gpu.release();
    await cpu.release();
  });
});
