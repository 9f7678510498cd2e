// SAM, and GroundingDINO's stand-in in front of it, on WebGPU: the CPU's mask from a click and from the class word.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GroundingDino } from '../../src-main/pipeline/mask/grounding-dino.js';
import { SamEngine } from '../../src-main/pipeline/mask/sam-engine.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTestDetector } from '../helpers/test-detector.js';
import { tmpDir } from '../helpers/tmp.js';

const agreement = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v > 127 === b[i]! > 127 ? 1 : 0), 0) / a.length;

describe('masks on WebGPU', () => {
  it('SAM from a click, and from the box GroundingDINO finds for the class word: the CPU’s masks', async () => {
    const bytes = readFileSync(fixtureImage('dog_00.jpg'));
    const [gpu, cpu] = await Promise.all([SamEngine.load({ provider: 'webgpu', cacheDir: tmpDir() }), SamEngine.load({ cacheDir: tmpDir() })]);
    expect(gpu.fallback).toBeNull();
    const [eg, ec] = [await gpu.embed(bytes), await cpu.embed(bytes)];
    const click = { points: [{ x: 390, y: 390, positive: true }] };
    const [mg, mc] = [await gpu.segment(eg, click), await cpu.segment(ec, click)];
    expect(agreement(mg.mask, mc.mask)).toBeGreaterThan(0.995);
    expect(Math.abs(mg.score - mc.score)).toBeLessThan(0.01);

    const detectorDir = writeTestDetector(tmpDir(), { wordQuery: 2.2, periodQuery: 3 });
    const [found] = await (await GroundingDino.load(detectorDir, { provider: 'webgpu' })).detect(bytes, 'dog');
    expect(found!.score).toBeCloseTo(1 / (1 + Math.exp(-2.2)), 4);
    const [bg, bc] = [await gpu.segment(eg, { points: [], box: found!.box }), await cpu.segment(ec, { points: [], box: found!.box })];
    expect(agreement(bg.mask, bc.mask)).toBeGreaterThan(0.995);
  });
});
