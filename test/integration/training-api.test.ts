// Learning through the API: a run starts at once and trains on a worker thread (the built code, like
// the app), its steps arrive as events, the API keeps answering, and runs queue one after another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage, TrainingRun } from '../../src-preload/contract/index.js';
import { type Backend, createBackend } from '../../src-main/api/backend.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { callOf, until } from '../helpers/api-calls.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { TINY_VISION } from '../helpers/tiny-singleinsert.js';

describe('training through the API (worker thread, queue, events)', { timeout: 240_000 }, () => {
  let root: string;
  let backend: Backend;
  let model: string;
  let imageId: string;
  const events: EventMessage[] = [];
  const call = callOf(() => backend);
  const runState = (id: string) => (backend.library.runs.get(id) as TrainingRun).state;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-train-api-'));
    model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    backend = createBackend({ dataDir: join(root, 'library'), officialEncoder: TINY_VISION });
    backend.events.subscribe((m) => events.push(m));
    const imported = (await call('images', 'import', { sources: [{ kind: 'path', path: fixtureImage('dog_00.jpg') }] })) as {
      results: Array<{ image: { id: string; width: number; height: number } }>;
    };
    const image = imported.results[0]!.image;
    imageId = image.id;
    const png = await sharp({ create: { width: image.width, height: image.height, channels: 3, background: '#000' } })
      .composite([
        { input: Buffer.from(`<svg width="${image.width}" height="${image.height}"><rect x="200" y="200" width="380" height="380" fill="#fff"/></svg>`) },
      ])
      .png()
      .toBuffer();
    await call('masks', 'save', { imageId, classWord: 'dog', maskPng: png.toString('base64'), source: 'manual' });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts at once, reports each step as an event while the API answers, and stores the concept', async () => {
    // steps long enough (latents 32²) that an API call waiting on one would take over 100 ms
    const settings = {
      steps1: 3,
      steps2: 2,
      batch: 4,
      latentSize: 32,
      lr1: 1e-3,
      lr2: 1e-3,
      checkpointEvery: 3,
      previewPrompts: ['* {class} in snow'],
      previewEvery: 2,
      previewSteps: 2,
    };
    const t0 = performance.now();
    const run = (await call('training', 'start', { imageId, classWord: 'dog', model, settings })) as TrainingRun;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(run.state).toMatch(/queued|running/);

    // while a step computes on the worker, other calls answer quickly
    await until(() => runState(run.id) === 'running');
    const latencies: number[] = [];
    while (runState(run.id) === 'running' && latencies.length < 30) {
      const s = performance.now();
      await call('library', 'stats', {});
      latencies.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 30));
    }
    await until(() => runState(run.id) !== 'running');
    expect(latencies.length).toBeGreaterThan(3);
    expect(Math.max(...latencies)).toBeLessThan(100);

    const done = backend.library.runs.get(run.id);
    expect(done).toMatchObject({ state: 'succeeded', step: 5 });
    const stepEvents = events.filter((e) => e.service === 'training' && (e.payload as { step: unknown }).step);
    expect(stepEvents.map((e) => (e.payload as { step: { step: number } }).step.step)).toEqual([1, 2, 3, 4, 5]);
    const { steps, previews } = (await call('training', 'get', { id: run.id })) as {
      steps: Array<{ loss: number; ms: number; rssMb: number }>;
      previews: Array<{ step: number; prompt: string; final: boolean }>;
    };
    expect(steps).toHaveLength(5);
    expect(steps.every((s) => s.rssMb > 50)).toBe(true);
    // previews every 2 steps and from the finished concept, each announced as it is drawn
    expect(previews.map((p) => [p.step, p.prompt, p.final])).toEqual([
      [2, '* dog in snow', false],
      [4, '* dog in snow', false],
      [5, '* dog in snow', true],
    ]);
    const previewEvents = events.filter((e) => e.service === 'training' && (e.payload as { previews: unknown[] }).previews?.length);
    expect(previewEvents.map((e) => (e.payload as { previews: Array<{ step: number }> }).previews.map((p) => p.step))).toEqual([[2], [4], [5]]);
    expect(Math.min(...steps.map((s) => s.ms))).toBeGreaterThan(150); // (so the latency check above means something)
    const { concepts } = (await call('library', 'list', {})) as { concepts: Array<{ id: string }> };
    expect(concepts.map((c) => c.id)).toContain(done.conceptId);
    expect(events.some((e) => e.service === 'library' && (e.payload as { reason: string }).reason === 'updated')).toBe(true);
  });

  it('queues runs one after another; cancelling the queued one skips it, cancelling the running one keeps its checkpoint', async () => {
    const settings = { steps1: 6, steps2: 0, batch: 2, latentSize: 8, checkpointEvery: 2 };
    const a = (await call('training', 'start', { imageId, classWord: 'dog', model, settings })) as TrainingRun;
    const b = (await call('training', 'start', { imageId, classWord: 'dog', model, settings })) as TrainingRun;
    expect(runState(b.id)).toBe('queued');
    expect(((await call('training', 'cancel', { id: b.id })) as TrainingRun).state).toBe('cancelled');
    await until(() => backend.library.runs.get(a.id).step >= 3);
    await call('training', 'cancel', { id: a.id });
    await until(() => runState(a.id) === 'cancelled');
    const cancelled = backend.library.runs.get(a.id);
    expect(cancelled.checkpointStep).toBe(cancelled.step);
    expect(cancelled.conceptId).toBeNull();
    // resumed, it goes on from where it stopped and finishes
    await call('training', 'resume', { id: a.id });
    await until(() => runState(a.id) === 'succeeded');
    expect(backend.library.runs.get(a.id).log.some((l) => l.startsWith(`Resumed at step ${cancelled.step} of 6`))).toBe(true);
    // ended runs can be deleted (a running one cannot); the concept stays
    expect(await call('training', 'delete', { id: b.id })).toEqual({ removedFiles: 0 });
    await expect(call('training', 'get', { id: b.id })).rejects.toThrow(/No training run/);
    // invalid input is refused with the field named
    await expect(call('training', 'start', { imageId, classWord: 'dog', model, settings: { steps1: -1 } })).rejects.toThrow(/settings\.steps1/);
  });
});
