// Drawing through the API: a composition starts as a job at once and draws on a worker thread (the
// built code, like the app), steps arrive with a latent preview, drawings queue one at a time, a cancel
// stops one, and an image drawn again from its stored composition has the same bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage, GenerationRecord, JobInfo } from '../../src-preload/contract/index.js';
import { type Backend, createBackend } from '../../src-main/api/backend.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { callOf, until } from '../helpers/api-calls.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('drawing compositions through the API (worker thread, queue, events)', { timeout: 120_000 }, () => {
  let root: string;
  let backend: Backend;
  let modelId: string;
  let conceptId: string;
  const events: EventMessage[] = [];
  const call = callOf(() => backend);
  /** A job as its last jobs.onUpdate event told it. */
  const job = (id: string) =>
    events
      .filter((e) => e.service === 'jobs' && (e.payload as JobInfo).id === id)
      .map((e) => e.payload as JobInfo)
      .at(-1)!;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-gen-api-'));
    backend = createBackend({ dataDir: join(root, 'library') });
    backend.events.subscribe((m) => events.push(m));
    modelId = (await installFromPath(backend.library, writeTinySingleFile(join(root, 'tiny.safetensors')), { name: 'tiny SD' })).id;
    const file = readFileSync(writeRandomConcept(join(root, 'dog.safetensors'), 1, 'dog'));
    conceptId = (await backend.library.concepts.add({ name: 'Rex', classWord: 'dog', imageId: null, maskId: null, baseModelId: modelId, file })).id;
  });
  afterAll(async () => {
    await backend.close();
    rmSync(root, { recursive: true, force: true });
  });

  const composition = (over: object = {}) => ({
    prompt: 'a * dog on a beach',
    concepts: [{ placeholder: '*', conceptId, scale: 0.8 }],
    regions: [{ placeholder: '*', box: [0, 0, 0.5, 1] }],
    steps: 3,
    seed: 21,
    width: 32,
    height: 32,
    ...over,
  });

  it('starts at once, reports steps with a preview, stores the image with its composition, and draws it again to the byte', async () => {
    const t0 = performance.now();
    const { jobId } = (await call('generations', 'start', { model: modelId, composition: composition() })) as { jobId: string };
    expect(performance.now() - t0).toBeLessThan(1000);
    await until(() => job(jobId).state === 'succeeded');
    const mine = events
      .filter((e) => e.service === 'generations' && (e.payload as { jobId: string }).jobId === jobId)
      .map((e) => e.payload as { step: number; preview: string | null; generationIds: string[] | null });
    expect(mine.filter((p) => p.preview).map((p) => p.step)).toEqual([1, 2, 3]);
    expect(mine.find((p) => p.preview)!.preview).toMatch(/^data:image\/png;base64,iVBOR/);
    const ids = mine.find((p) => p.generationIds)!.generationIds!;
    expect(ids).toHaveLength(1);

    const [record] = (await call('generations', 'list', {})) as GenerationRecord[];
    expect(record).toMatchObject({
      id: ids[0],
      prompt: 'a * dog on a beach',
      favorite: false,
      modelRef: modelId,
      concepts: [{ conceptId, placeholder: '*', scale: 0.8 }],
    });
    expect(record!.composition).toMatchObject({ seed: 21, count: 1, regions: [{ placeholder: '*', box: [0, 0, 0.5, 1] }] });

    // "draw again" from the stored composition: the same bytes
    const again = (await call('generations', 'start', { model: record!.modelRef, composition: record!.composition })) as { jobId: string };
    await until(() => job(again.jobId).state === 'succeeded');
    const [newest] = (await call('generations', 'list', {})) as GenerationRecord[];
    expect(newest!.id).not.toBe(record!.id);
    expect(newest!.sha256).toBe(record!.sha256);

    expect(((await call('generations', 'setFavorite', { id: record!.id, favorite: true })) as GenerationRecord).favorite).toBe(true);
  });

  it('queues drawings one at a time; a cancel stops the running one and skips a waiting one; bad requests are refused before queuing', async () => {
    const a = (await call('generations', 'start', { model: modelId, composition: composition({ steps: 40 }) })) as { jobId: string };
    const b = (await call('generations', 'start', { model: modelId, composition: composition({ steps: 2 }) })) as { jobId: string };
    expect(job(b.jobId).state).toBe('queued');
    await call('jobs', 'cancel', { id: b.jobId });
    await until(() => job(a.jobId).done >= 2);
    await call('jobs', 'cancel', { id: a.jobId });
    await until(() => job(a.jobId).state === 'cancelled' && job(b.jobId).state === 'cancelled');
    expect(job(a.jobId).done).toBeLessThan(40);
    expect(((await call('generations', 'list', {})) as GenerationRecord[]).length).toBe(2); // nothing half-made

    await expect(call('generations', 'start', { model: 'no-such-model', composition: composition() })).rejects.toThrow(/no-such-model/);
    await expect(
      call('generations', 'start', { model: modelId, composition: composition({ regions: [{ placeholder: '*2', box: [0, 0, 1, 1] }] }) }),
    ).rejects.toThrow(/no concept is placed at \*2/);
    await expect(call('generations', 'start', { model: modelId, composition: composition({ prompt: '' }) })).rejects.toThrow(/the prompt is empty/);
  });
});
