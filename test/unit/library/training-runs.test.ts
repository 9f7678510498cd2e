import { describe, expect, it } from 'vitest';
import { learnSettings } from '../../../src-preload/contract/training.js';
import { Library } from '../../../src-main/library/library.js';
import { tmpDir } from '../../helpers/tmp.js';

/** A library with one photo and mask rows for runs to point at. */
function libraryWithPhoto() {
  const library = Library.open(tmpDir());
  library.db.exec(`
    INSERT INTO blobs VALUES ('${'a'.repeat(64)}', 1, 'image/png', 'now');
    INSERT INTO images VALUES ('img_aaaaaaaa', '${'a'.repeat(64)}', '${'b'.repeat(64)}', '${'a'.repeat(64)}', 'dog.png', 'png', 8, 8, 8, 8, 1, 'now');
    INSERT INTO masks VALUES ('msk_aaaaaaaa', 'img_aaaaaaaa', 'dog', 1, '${'a'.repeat(64)}', 'manual', 'now');
  `);
  const create = (name: string) =>
    library.runs.create({
      name,
      classWord: 'dog',
      imageId: 'img_aaaaaaaa',
      maskId: 'msk_aaaaaaaa',
      modelId: null,
      modelRef: '/models/sd.safetensors',
      settings: learnSettings.parse({ steps2: 5 }),
    });
  return { library, create };
}

describe('training runs (repository)', () => {
  it('queues runs in order, claims one for a process, and records steps, rewinding on resume', () => {
    const { library, create } = libraryWithPhoto();
    const a = create('a');
    const b = create('b');
    expect(a).toMatchObject({ state: 'queued', totalSteps: 55, step: 0, settings: { steps1: 50, steps2: 5, encoder: 'official' } });
    expect(library.runs.queued().map((r) => r.name)).toEqual(['a', 'b']);
    expect(library.runs.claim(a.id, 4242)).toBe(true);
    expect(library.runs.claim(a.id, 4243)).toBe(false); // running already
    for (let step = 1; step <= 3; step++)
      library.runs.recordStep(a.id, 1, { step, stage: 1, loss: step, lFg: step, lBg: 0, lSm: null, gradNorm: 1, ms: 5, rssMb: 100 + step });
    expect(library.runs.get(a.id).step).toBe(3);
    library.runs.rewindTo(a.id, 2);
    expect(library.runs.steps(a.id).map((s) => [s.step, s.rssMb])).toEqual([
      [1, 101],
      [2, 102],
    ]);
    expect(library.runs.get(b.id).state).toBe('queued');
    library.close();
  });

  it('moves a waiting run up, down, to the front and the end of the queue; the running run does not move', () => {
    const { library, create } = libraryWithPhoto();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(create);
    const names = () => library.runs.queued().map((r) => r.name);
    expect(library.runs.moveQueued(c!.id, 'up').map((r) => r.name)).toEqual(['a', 'c', 'b', 'd']);
    library.runs.moveQueued(d!.id, 'first');
    expect(names()).toEqual(['d', 'a', 'c', 'b']);
    library.runs.moveQueued(d!.id, 'down');
    expect(names()).toEqual(['a', 'd', 'c', 'b']);
    library.runs.moveQueued(a!.id, 'last');
    expect(names()).toEqual(['d', 'c', 'b', 'a']);
    // past either end it stays there
    library.runs.moveQueued(d!.id, 'up');
    library.runs.moveQueued(a!.id, 'down');
    expect(names()).toEqual(['d', 'c', 'b', 'a']);
    // a run queued afterwards goes last; the order is the order the queue takes them in
    create('e');
    expect(names()).toEqual(['d', 'c', 'b', 'a', 'e']);
    expect(library.runs.claim(d!.id, process.pid)).toBe(true);
    expect(() => library.runs.moveQueued(d!.id, 'last')).toThrow(/is running, not waiting in the queue: only waiting runs move/);
    expect(library.runs.queued()[0]!.id).toBe(c!.id);
    void b;
    library.close();
  });

  it('marks runs of dead processes interrupted, requeues them behind the others, and refuses what cannot be done', () => {
    const { library, create } = libraryWithPhoto();
    const a = create('a');
    const b = create('b');
    library.runs.claim(a.id, 4242);
    expect(library.runs.markOrphansInterrupted((pid) => pid !== 4242)).toBe(1);
    expect(library.runs.get(a.id)).toMatchObject({ state: 'interrupted', error: expect.stringMatching(/Resume it/) });
    library.runs.requeue(a.id);
    expect(library.runs.queued().map((r) => r.name)).toEqual(['b', 'a']);
    expect(() => library.runs.requeue(a.id)).toThrow(/is queued already/);
    // cancel: a queued run at once; a running one by a flag its process reads
    expect(library.runs.requestCancel(b.id).state).toBe('cancelled');
    library.runs.claim(a.id, process.pid);
    expect(library.runs.requestCancel(a.id).state).toBe('running');
    expect(library.runs.cancelRequested(a.id)).toBe(true);
    library.runs.finish(a.id, 'succeeded');
    expect(() => library.runs.requeue(a.id)).toThrow(/already finished/);
    expect(() => library.runs.requestCancel(a.id)).toThrow(/only queued or running runs/);
    expect(() => library.runs.get('run_nothere00')).toThrow(/No training run run_nothere00/);
    library.close();
  });
});
