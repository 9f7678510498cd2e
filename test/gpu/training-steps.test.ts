// Checkpointed SingleInsert steps on WebGPU against the same steps on the CPU: the device keeps every
// checkpoint, gradient, parameter and moment, and after the first step only scalars and the step's
// changing inputs cross to and from the host.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src-main/graph/random.js';
import { CheckpointedTrainer } from '../../src-main/graph/runtime/checkpointed-trainer.js';
import type { StepRunner, TrainerSpec } from '../../src-main/graph/runtime/trainer.js';
import { transfersSince, transferTotals, type TransferCounts } from '../../src-main/graph/runtime/transfers.js';
import { stepFeeds } from '../../src-main/pipeline/invert/step-feeds.js';
import { buildSingleInsertStep, type StepOptions } from '../../src-main/pipeline/invert/training-step.js';
import { scaledLinearSchedule } from '../../src-main/schedulers/ddpm-schedule.js';
import { tinyExample, tinySingleInsertModels } from '../helpers/tiny-singleinsert.js';

const BATCH = 2;

async function threeSteps(trainer: StepRunner) {
  const data = tinyExample();
  const rng = new SeededRandom(21);
  const results = [];
  const moved: TransferCounts[] = [];
  for (let i = 0; i < 3; i++) {
    const feeds = stepFeeds(data, { batch: BATCH, latent: [8, 8] }, rng, scaledLinearSchedule());
    const before = transferTotals();
    results.push(await trainer.step([feeds], 1e-3));
    moved.push(transfersSince(before));
  }
  const params = await trainer.parameters();
  await trainer.release();
  return { results, params, moved };
}

const relativeToNorm = (a: Float32Array[], b: Float32Array[]) => {
  let diff = 0;
  let norm = 0;
  a.forEach((x, k) => x.forEach((v, i) => ((diff += (v - b[k]![i]!) ** 2), (norm += b[k]![i]! ** 2))));
  return Math.sqrt(diff / norm);
};

describe('checkpointed training steps on WebGPU', () => {
  const cases: Array<{ name: string; options: StepOptions }> = [
    { name: 'Stage I', options: { stage: 1, trainVision: true } },
    { name: 'Stage II', options: { stage: 2, loraRank: 4, trainVision: true } },
  ];
  for (const c of cases) {
    it(`${c.name}: the CPU's loss, gradient norm and parameters after 3 steps`, async () => {
      const spec = (provider: 'cpu' | 'webgpu'): TrainerSpec & { attentionScoreLimit: null } => ({
        build: (g) => buildSingleInsertStep(g, tinySingleInsertModels, { batch: BATCH, latent: [8, 8] }, c.options),
        optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
        provider,
        attentionScoreLimit: null,
      });
      const cpu = await threeSteps(await CheckpointedTrainer.create(spec('cpu')));
      const gpu = await threeSteps(await CheckpointedTrainer.create(spec('webgpu')));
      for (let i = 0; i < 3; i++) {
        expect(Math.abs(gpu.results[i]!.loss - cpu.results[i]!.loss) / cpu.results[i]!.loss).toBeLessThan(1e-5);
        expect(Math.abs(gpu.results[i]!.gradNorm - cpu.results[i]!.gradNorm) / cpu.results[i]!.gradNorm).toBeLessThan(1e-4);
      }
      const names = Object.keys(cpu.params).filter((n) => !/k_proj\.bias$/.test(n));
      expect(
        relativeToNorm(
          names.map((n) => gpu.params[n]!),
          names.map((n) => cpu.params[n]!),
        ),
      ).toBeLessThan(1e-5);
      console.log(`${c.name} on WebGPU, host↔device per step: ${JSON.stringify(gpu.moved)}`);
      // after the first step (weights, parameters, moments and the photo went up once): at most 1 MB a step
      for (const moved of gpu.moved.slice(1)) expect(moved.uploadBytes + moved.readbackBytes).toBeLessThan(1 << 20);
    });
  }

  it('Stage II in float16 (frozen SD weights and activations) with loss scaling: within 0.5% of the CPU float32 losses, and as far along', async () => {
    const spec = (provider: 'cpu' | 'webgpu', dtype: 'float32' | 'float16') => ({
      build: (g: Parameters<TrainerSpec['build']>[0]) =>
        buildSingleInsertStep(g, tinySingleInsertModels, { batch: BATCH, latent: [8, 8] }, { stage: 2, loraRank: 4, trainVision: true, dtype }),
      optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
      provider,
      attentionScoreLimit: null,
      ...(dtype === 'float16' ? { lossScale: { initial: 1024 } } : {}),
    });
    const start = await CheckpointedTrainer.create(spec('cpu', 'float32'));
    const initial = await start.parameters();
    await start.release();
    const full = await threeSteps(await CheckpointedTrainer.create(spec('cpu', 'float32')));
    const half = await threeSteps(await CheckpointedTrainer.create(spec('webgpu', 'float16')));
    for (let i = 0; i < 3; i++) {
      expect(half.results[i]!.skipped).toBeFalsy();
      expect(Math.abs(half.results[i]!.loss - full.results[i]!.loss) / full.results[i]!.loss).toBeLessThan(5e-3);
    }
    // what float16 changes is small against how far the 3 steps moved the parameters (Adam's steps are ±lr for
    // entries whose gradients are at rounding level, whatever their sign: the CPU's float16 check has the same bound)
    const names = Object.keys(full.params);
    let diff = 0;
    let moved = 0;
    for (const n of names)
      full.params[n]!.forEach((v, i) => {
        diff += (half.params[n]![i]! - v) ** 2;
        moved += (v - initial[n]![i]!) ** 2;
      });
    console.log(`Stage II float16 on WebGPU: parameter difference ${Math.sqrt(diff / moved).toExponential(2)} of the distance moved`);
    expect(Math.sqrt(diff / moved)).toBeLessThan(0.05);
  });
});
