import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/common/app-error.js';
import { Graph } from '../../../src-main/graph/graph.js';
import * as op from '../../../src-main/graph/ops/index.js';
import {
  ALLOCATOR_SLACK,
  createStepRunner,
  STEP_RUNTIME_BYTES,
  describePlan,
  estimateStep,
  planStep,
  splitBatch,
} from '../../../src-main/graph/runtime/memory-plan.js';
import { explainOutOfMemory } from '../../../src-main/graph/runtime/out-of-memory.js';
import { sessionForGraph } from '../../../src-main/graph/runtime/session.js';
import { buildSingleInsertStep } from '../../../src-main/pipeline/invert/training-step.js';
import { tinySingleInsertModels } from '../../helpers/tiny-singleinsert.js';

const models = tinySingleInsertModels;
const build = (g: Graph, mb: number) => buildSingleInsertStep(g, models, { batch: mb, latent: [8, 8] }, { stage: 2, loraRank: 4, trainVision: true });

describe('memory plan', () => {
  it('runs a small step as one graph when memory is plentiful', () => {
    const plan = planStep(build, { label: 'Stage II step', batch: 4, availableBytes: 8 * 2 ** 30 });
    expect(plan.mode).toBe('one-graph');
    expect(plan.microBatches).toBe(1);
  });

  it('checkpoints, then splits the batch, as memory shrinks; the estimates order as they should', () => {
    const one4 = estimateStep(build, 4, 'one-graph');
    const ck4 = estimateStep(build, 4, 'checkpointed');
    const ck2 = estimateStep(build, 2, 'checkpointed');
    const ck1 = estimateStep(build, 1, 'checkpointed');
    expect(ck4.activations).toBeLessThan(one4.activations);
    expect(ck2.activations).toBeLessThan(ck4.activations);
    expect(ck1.activations).toBeLessThan(ck2.activations);
    expect(ck1.weights).toBe(one4.weights); // the weights do not depend on the batch
    // a budget between the 2-sample and 4-sample checkpointed needs: 2 micro-batches of 2
    const available = (ck2.peak + ck4.peak) / 2 / 0.85;
    const plan = planStep(build, { label: 'Stage II step', batch: 4, availableBytes: available, mode: 'checkpointed' });
    expect([plan.microBatches, plan.microBatch]).toEqual([2, 2]);
  });

  it('counts what the process already holds: less room left means more micro-batches', () => {
    const ck = estimateStep(build, 4, 'checkpointed');
    const withProcess = estimateStep(build, 4, 'checkpointed', 5e6);
    expect(withProcess.peak - ck.peak).toBe(5e6);
    const available = (ck.peak * 1.05) / 0.85;
    expect(planStep(build, { label: 'Stage II step', batch: 4, availableBytes: available, mode: 'checkpointed' }).microBatches).toBe(1);
    const crowded = planStep(build, { label: 'Stage II step', batch: 4, availableBytes: available, mode: 'checkpointed', processBytes: ck.peak * 0.2 });
    expect(crowded.microBatches).toBeGreaterThan(1);
    expect(crowded.estimate.process).toBe(ck.peak * 0.2);
  });

  it('spends half the room left on keeping activations, and counts them in the estimate', async () => {
    const base = estimateStep(build, 4, 'checkpointed');
    const available = (base.peak + STEP_RUNTIME_BYTES + 40e6) / 0.85; // 40 MB over the estimate: up to 20 MB stored
    const open = (spendSpare: boolean) =>
      createStepRunner({ build, optimizer: {} }, { label: 'Stage II step', batch: 4, availableBytes: available, mode: 'checkpointed', spendSpare });
    const { runner, plan } = await open(true);
    await runner.release();
    expect(plan.stored!.segments).toBeGreaterThan(0);
    expect(plan.stored!.bytes).toBeLessThanOrEqual(20e6);
    expect(describePlan(plan)).toMatch(/; \d+ of \d+ segments keep their activations \([\d.]+ GB\) instead of recomputing them; estimated peak/);
    const frugal = await open(false);
    await frugal.runner.release();
    expect(frugal.plan.stored).toEqual({ segments: 0, of: plan.stored!.of, bytes: 0 });
    // once built, the estimate's activations are the schedule's own figure; storing costs memory there
    expect(plan.estimate.peak - plan.estimate.activations).toBe(base.peak - base.activations);
    expect(plan.estimate.activations).toBeGreaterThan(frugal.plan.estimate.activations);
    expect(frugal.plan.estimate.activations).toBeGreaterThan(STEP_RUNTIME_BYTES);
    expect(plan.estimate.activations - frugal.plan.estimate.activations).toBeLessThanOrEqual(plan.stored!.bytes * ALLOCATOR_SLACK + 1);
  }, 120_000);

  it('refuses, before it runs, a step with a tensor larger than one GPU buffer may hold, naming it', () => {
    const plan = planStep(build, { label: 'Stage II step', batch: 4, availableBytes: 8 * 2 ** 30, mode: 'checkpointed', bindingLimitBytes: 128 * 2 ** 20 });
    expect(plan.microBatches).toBe(1);
    expect(() => planStep(build, { label: 'Stage II step', batch: 4, availableBytes: 8 * 2 ** 30, mode: 'checkpointed', bindingLimitBytes: 2 ** 20 })).toThrow(
      /^The Stage II step cannot run on this GPU: its tensor \S*token_embedding\S* \(\d+ MiB\) is larger than the 1 MiB one GPU buffer may hold here\. Run it on the CPU/,
    );
  });

  it('refuses a step that cannot fit, saying what it needs, what is free and what to change', () => {
    let error: unknown;
    try {
      planStep(build, { label: 'Stage II step (batch 4)', batch: 4, availableBytes: 1e6 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('out-of-memory');
    expect((error as AppError).message).toMatch(
      /Stage II step \(batch 4\) does not fit: it needs about [\d.]+ GB .* and 0\.0 GB is free\. Close other programs/,
    );
  });

  it('splits feeds into micro-batches along the batch axis', () => {
    const parts = splitBatch({ x: { dtype: 'float32', shape: [4, 2], data: Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7) } }, 2);
    expect(parts.map((p) => Array.from(p.x!.data as Float32Array))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(parts[1]!.x!.shape).toEqual([2, 2]);
  });

  it("turns onnxruntime's real allocation failure into an out-of-memory error with advice", async () => {
    const g = new Graph('huge');
    const x = g.input('x', 'float32', [1]);
    g.output(op.expand(x, [2 ** 20, 2 ** 20, 64]), 'y'); // 256 TiB
    const session = await sessionForGraph(g);
    const err = await session.run({ x: { dtype: 'float32', shape: [1], data: Float32Array.of(1) } }).catch((e: unknown) => e);
    await session.release();
    const explained = explainOutOfMemory(err, 'A Stage I step', 'Use a smaller --batch.');
    expect(explained).toBeInstanceOf(AppError);
    expect((explained as AppError).code).toBe('out-of-memory');
    expect((explained as AppError).message).toMatch(/^A Stage I step ran out of memory \(.+\)\. Nothing saved was changed\. Use a smaller --batch\.$/);
    // anything else passes through unchanged
    const other = new Error('shape mismatch');
    expect(explainOutOfMemory(other, 'x', 'y')).toBe(other);
  });
});
