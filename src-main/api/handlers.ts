import type { ApiHandlers } from '../../src-preload/contract/index.js';
import { AppError } from '../common/app-error.js';
import { evaluateOnWorker } from '../jobs/evaluation-runner.js';
import { drawOnWorker } from '../jobs/generation-runner.js';
import { exportReport } from '../pipeline/evaluate/report-export.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { TrainingQueue } from '../jobs/training-queue.js';
import { createRun, resumeRun } from '../pipeline/learn/learning-service.js';
import { exportConcept } from '../pipeline/interop/concept-exchange.js';
import { importConceptFiles } from '../pipeline/interop/import-concept-files.js';
import type { ImportSource } from '../../src-preload/contract/index.js';
import type { Library } from '../library/library.js';
import { importPhotos, photoFromPath } from '../pipeline/ingest/import-photos.js';
import { type MaskResult, type MaskService, NO_DETECTOR_HINT } from '../pipeline/mask/mask-service.js';
import { installFromPath, installFromUrl, removeModel } from '../model-manager/install.js';
import { resolveModelPath } from '../model-manager/resolve-model.js';
import { scanModelFolder } from '../model-manager/scan-folder.js';
import { browseFolder } from '../system/browse-folder.js';
import { runDoctor } from '../system/doctor.js';
import type { EventBus } from './event-bus.js';
import type { UploadStore } from './upload-store.js';

export interface HandlerContext {
  library: Library;
  masks: MaskService;
  jobs: JobManager;
  uploads: UploadStore;
  events: EventBus;
  training: TrainingQueue;
}

/** One handler per contract method; transports call these through the dispatcher only. */
const wire = (m: MaskResult) => ({ maskPng: m.png.toString('base64'), width: m.width, height: m.height, score: m.score, coverage: m.coverage });

export function createHandlers({ library, masks, jobs, uploads, events, training }: HandlerContext): ApiHandlers {
  return {
    library: {
      list: () => ({ images: library.images.list(), concepts: library.concepts.list() }),
      stats: () => ({ dataDir: library.dataDir, ...library.stats() }),
      deleteImage: async ({ id }) => {
        const result = await library.images.delete(id);
        events.emit('library', 'onChanged', { reason: 'deleted' });
        return result;
      },
      exportConcept: ({ id, format, dir }) => exportConcept(library, id, format, dir),
      importConcept: async ({ sources, classWord, name }) => {
        // a web upload lies under an id: the first file's own name names the concept unless one is given
        const first = sources[0]!;
        const named = name || (first.kind === 'upload' ? first.name.replace(/\.safetensors$/i, '') : undefined);
        const options = { ...(classWord ? { classWord } : {}), ...(named ? { name: named } : {}) };
        // uploads are read where they lie and dropped afterwards; paths as they are
        const withPaths = async (rest: ImportSource[], paths: string[]): Promise<Awaited<ReturnType<typeof importConceptFiles>>> => {
          const [next, ...others] = rest;
          if (!next) return importConceptFiles(library, paths, options);
          if (next.kind === 'path') return withPaths(others, [...paths, next.path]);
          return uploads.useInPlace(next.uploadId, (path) => withPaths(others, [...paths, path]));
        };
        const result = await withPaths(sources, []);
        events.emit('library', 'onChanged', { reason: 'imported' });
        return result;
      },
      updateConcept: ({ id, ...changes }) => {
        const concept = library.concepts.update(id, changes);
        events.emit('library', 'onChanged', { reason: 'updated' });
        return concept;
      },
      deleteConcept: async ({ id }) => {
        const result = await library.concepts.delete(id);
        events.emit('library', 'onChanged', { reason: 'deleted' });
        return result;
      },
    },
    images: {
      import: async ({ sources }) => {
        const photos = sources.map((s) => (s.kind === 'path' ? photoFromPath(s.path) : uploads.take(s.uploadId, s.name)));
        const title = photos.length === 1 ? `Import ${photos[0]!.name}` : `Import ${photos.length} photos`;
        const { jobId, result } = await jobs.run('import', title, (ctx) =>
          importPhotos(library, photos, {
            signal: ctx.signal,
            onProgress: (p) => ctx.progress(p.done, p.total, p.message),
          }),
        );
        if (result.some((r) => r.status === 'imported')) events.emit('library', 'onChanged', { reason: 'imported' });
        return { jobId, results: result };
      },
    },
    jobs: {
      list: () => jobs.list(),
      cancel: ({ id }) => ({ cancelled: jobs.cancel(id) }),
    },
    masks: {
      prepare: async ({ imageId }) => {
        const image = library.images.get(imageId);
        const { result } = await jobs.run('segment', `Preparing ${image.name} for masks`, async (ctx) => {
          ctx.progress(0, 1, 'Computing the image embedding (a few seconds the first time)');
          const e = await masks.prepare(imageId);
          ctx.progress(1, 1, 'Ready');
          return e;
        });
        return { width: result.width, height: result.height };
      },
      segment: async ({ imageId, points, box, refine }) => wire(await masks.segment(imageId, { points, box, refine })),
      detectorStatus: () => {
        const folder = masks.detectorFolder();
        return { installed: folder !== null, name: folder?.name ?? null, hint: folder ? '' : NO_DETECTOR_HINT };
      },
      detect: async ({ imageId, classWord }) => {
        const { detection, mask } = await masks.detect(imageId, classWord);
        return { box: detection.box, score: detection.score, label: detection.label, mask: wire(mask) };
      },
      save: async ({ imageId, classWord, maskPng, source }) => {
        const record = await masks.save(imageId, classWord, Buffer.from(maskPng, 'base64'), source);
        events.emit('library', 'onChanged', { reason: 'updated' });
        return record;
      },
      list: ({ imageId }) => {
        library.images.get(imageId);
        return library.masks.list(imageId);
      },
    },
    models: {
      list: () => library.models.list(),
      addPath: async ({ path, name, family, copy }) => {
        const { result } = await jobs.run('install', `Install ${path}`, (ctx) => {
          ctx.progress(0, 1, 'Checking and hashing the model files');
          return installFromPath(library, path, { name, family, copy });
        });
        events.emit('models', 'onChanged', {});
        return result;
      },
      addUrl: async ({ url, sha256, name, family }) => {
        const { result } = await jobs.run('install', `Download ${url}`, (ctx) =>
          installFromUrl(library, url, { sha256, name, family, signal: ctx.signal, onProgress: (p) => ctx.progress(p.received, p.total, 'Downloading') }),
        );
        events.emit('models', 'onChanged', {});
        return result;
      },
      remove: ({ id }) => {
        const result = removeModel(library, id);
        events.emit('models', 'onChanged', {});
        return result;
      },
      scan: async ({ folder }) => {
        const { result } = await jobs.run('install', `Scan ${folder}`, () => scanModelFolder(library, folder));
        events.emit('models', 'onChanged', {});
        return result;
      },
    },
    generations: {
      list: () => library.generations.list(),
      start: ({ model, composition, provider }) => {
        // what can be checked now is refused now, before anything is queued
        resolveModelPath(library.dataDir, model);
        for (const c of composition.concepts) library.concepts.filePath(c.conceptId);
        let jobId = '';
        const progress = (p: Partial<{ step: number; total: number; etaMs: number; preview: string; note: string; generationIds: string[] }>): void =>
          events.emit('generations', 'onProgress', {
            jobId,
            step: p.step ?? 0,
            total: p.total ?? composition.steps,
            etaMs: p.etaMs ?? 0,
            preview: p.preview ?? null,
            note: p.note ?? null,
            generationIds: p.generationIds ?? null,
          });
        const started = jobs.start<string[]>(
          'generate',
          `Draw "${composition.prompt.slice(0, 60)}"`,
          (ctx) =>
            drawOnWorker(library.dataDir, { model, composition, provider }, ctx, { onStep: (step) => progress(step), onNote: (note) => progress({ note }) }),
          { lane: 'gpu', outputs: (ids) => ids },
        );
        jobId = started.jobId;
        void started.done.then(
          (generationIds) => progress({ step: composition.steps, generationIds }),
          () => undefined,
        );
        return { jobId };
      },
      setFavorite: ({ id, favorite }) => library.generations.setFavorite(id, favorite),
      setBoards: ({ id, boards }) => library.generations.setBoards(id, boards),
      remove: ({ id }) => library.generations.delete(id),
    },
    compositions: {
      list: () => library.compositions.list(),
      save: (input) => library.compositions.save(input),
      remove: ({ id }) => ({ removed: library.compositions.remove(id) }),
    },
    system: {
      doctor: () => runDoctor(library.dataDir),
      preferences: () => library.preferences.get(),
      setPreferences: (changes) => library.preferences.set(changes),
      browse: ({ path }) => browseFolder(path),
    },
    training: {
      list: () => library.runs.list(),
      get: ({ id }) => library.runs.detail(id),
      ofConcept: ({ conceptId }) => {
        const run = library.runs.ofConcept(conceptId);
        return run ? library.runs.detail(run.id) : null;
      },
      start: async (input) => {
        const run = await createRun(library, input, training.options);
        training.pump();
        return library.runs.get(run.id);
      },
      cancel: ({ id }) => training.cancel(id),
      move: ({ id, to }) => {
        const queue = library.runs.moveQueued(id, to);
        for (const run of queue) events.emit('training', 'onProgress', { run, step: null, previews: [] });
        return queue;
      },
      resume: ({ id }) => {
        resumeRun(library, id);
        training.pump();
        return library.runs.get(id);
      },
      delete: ({ id }) => {
        // the queue's run may not have claimed its row yet
        if (training.runningId === id) throw new AppError('conflict', `Run ${id} is starting; cancel it first, then delete it.`);
        return library.runs.delete(id);
      },
    },
    evaluations: {
      list: ({ conceptId }) => library.evaluations.list(conceptId),
      get: ({ id }) => library.evaluations.get(id),
      start: ({ conceptId, model, set, label, provider }) => {
        // what can be checked now is refused now, before anything is queued
        resolveModelPath(library.dataDir, model);
        const concept = library.concepts.get(conceptId);
        library.concepts.filePath(conceptId);
        const request = { conceptId, model, set, provider, ...(label ? { label } : {}) };
        const started = jobs.start<string>(
          'evaluate',
          `Report card for "${concept.name}"${label ? ` (${label})` : ''}`,
          (ctx) => evaluateOnWorker(library.dataDir, request, ctx),
          { lane: 'gpu', outputs: (id) => [id, conceptId] },
        );
        void started.done.then(
          () => events.emit('evaluations', 'onChanged', { conceptId }),
          () => undefined,
        );
        return { jobId: started.jobId };
      },
      exportReport: ({ id, format }) => exportReport(library.evaluations.get(id), format),
      remove: async ({ id }) => {
        const { conceptId } = library.evaluations.get(id);
        const result = await library.evaluations.delete(id);
        events.emit('evaluations', 'onChanged', { conceptId });
        return result;
      },
    },
  };
}
