// Learning runs on the tiny SD: the service records every step, checkpoints, cancels, and a resumed
// run (after a cancel in-process, or a SIGKILL of the CLI) ends with the same concept bytes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { LearnSettingsInput, TrainingRun } from '../../src-preload/contract/training.js';
import { Library } from '../../src-main/library/library.js';
import { checkpointPath, loadCheckpoint } from '../../src-main/pipeline/learn/checkpoint.js';
import { createRun, resumeRun, runInThisProcess } from '../../src-main/pipeline/learn/learning-service.js';
import { importPhotos, photoFromPath } from '../../src-main/pipeline/ingest/import-photos.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { writeTinyClipVision, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { TINY_VISION } from '../helpers/tiny-singleinsert.js';
import { readConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/compose/generate.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import { thumbnailOf } from '../../src-main/pipeline/ingest/normalize-photo.js';
import { WeightPool } from '../../src-main/graph/runtime/weight-pool.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { writeTinyTaesd } from '../helpers/tiny-taesd.js';

/** The image of a PNG without its text chunks (the settings written into it differ by prompt template only). */
const stripText = (png: Buffer) => {
  const chunks: Buffer[] = [png.subarray(0, 8)];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type !== 'tEXt' && type !== 'iTXt') chunks.push(png.subarray(at, at + 12 + length));
    at += 12 + length;
  }
  return Buffer.concat(chunks);
};

const BIN = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));
// no previews here but where a test asks for them (each one costs a few sampling steps)
const SMALL: LearnSettingsInput = { steps1: 3, steps2: 3, batch: 2, latentSize: 8, lr1: 1e-3, lr2: 1e-3, seed: 11, checkpointEvery: 2, previewPrompts: [] };

describe('learning runs (tiny SD)', { timeout: 240_000 }, () => {
  let root: string;
  let model: string;
  let library: Library;
  let imageId: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-runs-'));
    model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    library = Library.open(join(root, 'library'));
    const [result] = await importPhotos(library, [photoFromPath(fixtureImage('dog_00.jpg'))]);
    if (result?.status !== 'imported') throw new Error('the fixture did not import');
    imageId = result.image.id;
    const { width, height } = library.images.get(imageId);
    const mask = await discMaskPng(width, height);
    await library.masks.save({ imageId, classWord: 'dog', png: mask, source: 'manual' });
  });
  afterAll(() => {
    library.close();
    rmSync(root, { recursive: true, force: true });
  });

  const conceptBytes = (run: TrainingRun) => readFileSync(library.concepts.filePath(run.conceptId!));
  const official = { officialEncoder: TINY_VISION };

  let uninterrupted: Buffer;
  it('runs Stage I and Stage II to a concept, recording each step and the plan; the checkpoint goes once the concept is saved', async () => {
    const run = await createRun(library, { imageId, classWord: 'dog', model, settings: SMALL }, official);
    expect(run).toMatchObject({ state: 'queued', totalSteps: 6, step: 0, settings: { encoder: 'official', stage2Target: 'lora-text', latents: 'sample' } });
    const seen: number[] = [];
    const done = await runInThisProcess(library, run.id, { ...official, onStep: (_r, s) => seen.push(s.step) });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(done).toMatchObject({ state: 'succeeded', step: 6, stage: 2, error: null });
    const steps = library.runs.steps(run.id);
    expect(steps.map((s) => s.stage)).toEqual([1, 1, 1, 2, 2, 2]);
    // Stage I has no L_sm; at Stage II's first step B = 0, so the adapted model is the frozen one: L_sm = 0
    expect(steps.slice(0, 3).every((s) => s.lSm === null)).toBe(true);
    expect(steps[3]!.lSm).toBe(0);
    expect(steps[5]!.lSm).toBeGreaterThan(0);
    // L = L_fg + γ·L_bg (+ η·L_sm), γ = η = 1
    for (const s of steps) expect(s.loss).toBeCloseTo(s.lFg + s.lBg + (s.lSm ?? 0), 5);
    expect(done.log.some((l) => /Stage I memory plan: one-graph/.test(l))).toBe(true);
    expect(existsSync(library.runs.runDir(run.id))).toBe(false);
    const concept = library.concepts.get(done.conceptId!);
    expect(concept).toMatchObject({ classWord: 'dog', name: 'dog from dog_00.jpg', status: 'ready', imageId });
    uninterrupted = conceptBytes(done);
  });

  it('a cancel stops before the next step and keeps the checkpoint; resumed, the run ends with the same concept bytes', async () => {
    const run = await createRun(library, { imageId, classWord: 'dog', model, settings: SMALL }, official);
    const concepts = library.concepts.list().length;
    await expect(runInThisProcess(library, run.id, { ...official, onStep: (_r, s) => s.step === 4 && library.runs.requestCancel(run.id) })).rejects.toThrow(
      /^Training cancelled after step 4 of 6 \(Stage II\); resume it to go on from step 4, its last checkpoint\.$/,
    );
    const cancelled = library.runs.get(run.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', step: 4, checkpointStep: 4, conceptId: null });
    expect(library.concepts.list()).toHaveLength(concepts); // no half-made concept
    expect(loadCheckpoint(library.runs.runDir(run.id))).toMatchObject({ stage: 2, stageStep: 1, step: 4 });
    resumeRun(library, run.id);
    const done = await runInThisProcess(library, run.id, official);
    expect(done.state).toBe('succeeded');
    expect(done.log.some((l) => /Resumed at step 4 of 6/.test(l))).toBe(true);
    expect(library.runs.steps(run.id).map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(conceptBytes(done).equals(uninterrupted)).toBe(true);
  });

  it('stops after a step, saved, when free memory falls under the floor while it runs; resumed, the same concept', async () => {
    const run = await createRun(library, { imageId, classWord: 'dog', model, settings: SMALL }, official);
    // another program takes the memory during step 4 (Stage II's first; no regular checkpoint falls there)
    let taken = false;
    const freeMemory = () => (taken ? 100 * 2 ** 20 : 64 * 2 ** 30);
    await expect(runInThisProcess(library, run.id, { ...official, freeMemory, onStep: (_r, s) => void (s.step === 3 && (taken = true)) })).rejects.toThrow(
      /^Stopped after step 4 of 6 \(Stage II\) before the machine ran out of memory: free memory fell to 0\.1 GB \(the run stops below [\d.]+ GB\)\. Every step so far is saved: close other programs, then resume it from step 4\.$/,
    );
    expect(library.runs.get(run.id)).toMatchObject({ state: 'failed', step: 4, checkpointStep: 4, conceptId: null });
    resumeRun(library, run.id);
    const done = await runInThisProcess(library, run.id, official);
    expect(done.log.some((l) => /Resumed at step 4 of 6/.test(l))).toBe(true);
    expect(done.log.some((l) => /^Memory for the steps: [\d.]+ GB, available system memory\.$/.test(l))).toBe(true);
    expect(conceptBytes(done).equals(uninterrupted)).toBe(true);
  });

  it('draws the preview prompts every N steps and from the finished concept, whose first image is its thumbnail', async () => {
    const prompts = ['a photo of * {class}', '* {class} as a marble statue'];
    const settings = { ...SMALL, steps1: 2, steps2: 2, previewPrompts: prompts, previewEvery: 1, previewSteps: 4, previewSeed: 7 };
    const run = await createRun(library, { imageId, classWord: 'dog', model, settings }, official);
    const events: number[][] = [];
    const done = await runInThisProcess(library, run.id, { ...official, onPreviews: (_r, p) => events.push(p.map((x) => x.step)) });
    expect(events).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    const previews = library.runs.previews(run.id);
    expect(previews.map((p) => [p.step, p.stage, p.promptIndex, p.seed, p.final])).toEqual([
      [1, 1, 0, 7, false],
      [1, 1, 1, 8, false],
      [2, 1, 0, 7, false],
      [2, 1, 1, 8, false],
      [3, 2, 0, 7, false],
      [3, 2, 1, 8, false],
      [4, 2, 0, 7, true],
      [4, 2, 1, 8, true],
    ]);
    expect(previews[1]!.prompt).toBe('* dog as a marble statue');
    const png = (sha: string) => library.store.read(sha);
    const meta = await sharp(await png(previews[0]!.sha256)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 16, 16]); // the size it trains at: 8 latents × 2
    // the concept changes over the run: no two steps draw the same image for one prompt
    const firstPrompt = await Promise.all(previews.filter((p) => p.promptIndex === 0).map(async (p) => (await png(p.sha256)).toString('base64')));
    expect(new Set(firstPrompt).size).toBe(4);

    // the final previews are what the saved concept draws, and the first is the concept's thumbnail
    const sd = openStableDiffusion(model);
    const concept = readConceptFile(library.concepts.filePath(done.conceptId!), 'c');
    // drawn as previews are, with the weights fed from a pool: onnxruntime prepacks the matrices of weights
    // held inside a graph, whose sums then round differently in the last bits
    const again = await generateImages(sd, defaultSettings(sd, { prompt: 'a photo of * dog', steps: 4, seed: 7, width: 16, height: 16 }), {
      concepts: [{ placeholder: '*', concept }],
      cacheDir: join(root, 'graphs'),
      weights: new WeightPool(),
    });
    const final = previews.find((p) => p.final && p.promptIndex === 0)!;
    expect(stripText(again.images[0]!.png).equals(stripText(await png(final.sha256)))).toBe(true);
    const record = library.concepts.get(done.conceptId!);
    expect(record.thumbSha256).not.toBe(library.images.get(imageId).thumbSha256);
    expect((await png(record.thumbSha256!)).equals(await thumbnailOf(await png(final.sha256)))).toBe(true);

    // the run's rows and files go with it; its concept stays
    const { removedFiles } = await library.runs.delete(run.id);
    expect(removedFiles).toBe(new Set(previews.map((p) => p.sha256)).size);
    expect(library.runs.find(run.id)).toBeNull();
    expect(library.concepts.get(done.conceptId!).thumbSha256).toBe(record.thumbSha256);
  });

  it('with TAESD installed, decodes the previews along the way by it, and the finished concept’s by the VAE', async () => {
    const settings = { ...SMALL, steps1: 1, steps2: 1, previewPrompts: ['a photo of * {class}'], previewEvery: 1, previewSteps: 2, previewSeed: 3 };
    const drawn = async () => {
      const run = await createRun(library, { imageId, classWord: 'dog', model, settings }, official);
      const done = await runInThisProcess(library, run.id, official);
      const previews = library.runs.previews(run.id);
      return { done, bytes: await Promise.all(previews.map(async (p) => stripText(await library.store.read(p.sha256)))) };
    };
    const byVae = await drawn();
    await installFromPath(library, writeTinyTaesd(join(root, 'taesd')), { name: 'tiny TAESD' });
    const byTaesd = await drawn();
    expect(byTaesd.done.log).toContain("Previews along the way are decoded by tiny TAESD (TAESD, quicker); the finished concept's by the VAE.");
    // the same run drew the same latents: only the decoder of the step-1 preview differs
    expect(byTaesd.bytes).toHaveLength(2);
    expect(byTaesd.bytes[0]!.equals(byVae.bytes[0]!)).toBe(false);
    expect(byTaesd.bytes[1]!.equals(byVae.bytes[1]!)).toBe(true);
    library.models.delete(library.models.list().find((m) => m.family === 'taesd')!.id);
  });

  it('refuses before queuing a run whose step cannot fit the memory, saying what it needs and what to change', async () => {
    const before = library.runs.list().length;
    await expect(createRun(library, { imageId, classWord: 'dog', model, settings: { ...SMALL, maxMemoryGb: 0.001 } }, official)).rejects.toThrow(
      /Stage I step \(batch 2, 64 px\) does not fit: it needs about [\d.]+ GB even as checkpointed micro-batches of 1, and 0\.0 GB is free\. Close other programs/,
    );
    expect(library.runs.list()).toHaveLength(before);
    const fits = await createRun(library, { imageId, classWord: 'dog', model, settings: SMALL }, official);
    expect(fits.log[0]).toMatch(/^Preflight, Stage I: one-graph, 1 micro-batch of 2; estimated peak/);
    expect(fits.log[1]).toMatch(/^Preflight, Stage II: /);
    library.runs.requestCancel(fits.id);
  });

  it('another seed gives another concept (the comparison above can fail)', async () => {
    const run = await createRun(library, { imageId, classWord: 'dog', model, settings: { ...SMALL, seed: 12 } }, official);
    expect(conceptBytes(await runInThisProcess(library, run.id, official)).equals(uninterrupted)).toBe(false);
  });

  it('the CLI: a run killed with SIGKILL shows as interrupted and `runs resume` ends with the concept an uninterrupted run makes', async () => {
    const dataDir = join(root, 'cli-library');
    const encoder = writeTinyClipVision(join(root, 'clip-vision'));
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
    const imported = cli(['import', fixtureImage('dog_00.jpg')]);
    const id = imported.stdout.split('\t')[0]!;
    expect(cli(['mask', id, '--class', 'dog', '--point', '390,390', '--out', join(root, 'm.png')]).status).toBe(0);
    const learnArgs = [
      'learn',
      id,
      '--class',
      'dog',
      '--model',
      model,
      '--encoder',
      encoder,
      '--steps1',
      '3',
      '--steps2',
      '4',
      '--batch',
      '2',
      '--latent',
      '8',
      '--lr1',
      '1e-3',
      '--lr2',
      '1e-3',
      '--checkpoint-every',
      '2',
      '--seed',
      '5',
    ];

    // uninterrupted
    const whole = cli([...learnArgs, '--json']);
    expect(whole.status, whole.stderr).toBe(0);
    const wholeRun = JSON.parse(whole.stdout) as { run: TrainingRun };
    expect(whole.stderr).toMatch(/Stage II · step 7\/7 · loss [\d.]+ \(smoothed [\d.]+\) · .* · ETA/);

    // killed after step 5 (Stage II's second step, whose checkpoint is at step 5: 3 + 2)
    const child = spawn(process.execPath, [BIN, ...learnArgs, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/step 6\/7/.test(err)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the CLI ended before it could be killed: ${err}`)));
    });
    await new Promise((r) => child.once('exit', r));
    const listed = JSON.parse(cli(['runs', 'list', '--json']).stdout) as TrainingRun[];
    const killed = listed.find((r) => r.id !== wholeRun.run.id)!;
    expect(killed).toMatchObject({ state: 'interrupted', checkpointStep: 5 });
    expect(existsSync(checkpointPath(join(dataDir, 'runs', killed.id)))).toBe(true);
    const shown = cli(['runs', 'show', killed.id]);
    expect(shown.stdout).toMatch(/state\s+interrupted — The process running it stopped/);

    const resumed = cli(['runs', 'resume', killed.id, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const resumedRun = JSON.parse(resumed.stdout) as { run: TrainingRun; steps: unknown[] };
    expect(resumedRun.run.state).toBe('succeeded');
    expect(resumedRun.steps).toHaveLength(7);
    const lib = Library.open(dataDir);
    try {
      expect(readFileSync(lib.concepts.filePath(resumedRun.run.conceptId!)).equals(readFileSync(lib.concepts.filePath(wholeRun.run.conceptId!)))).toBe(true);
    } finally {
      lib.close();
    }
    // a finished run cannot be resumed; an unknown one is not found
    expect(cli(['runs', 'resume', killed.id]).stderr).toMatch(/already finished; its concept is con_/);
    expect(cli(['runs', 'show', 'run_nothere00']).stderr).toMatch(/No training run run_nothere00/);
  });

  it('the CLI: test prompts with --preview, their images with `runs previews`, memory in `runs show`, and `runs delete`', async () => {
    const dataDir = join(root, 'cli-previews');
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
    const id = cli(['import', fixtureImage('dog_00.jpg')]).stdout.split('\t')[0]!;
    expect(cli(['mask', id, '--class', 'dog', '--point', '390,390', '--out', join(root, 'm2.png')]).status).toBe(0);
    const base = ['learn', id, '--class', 'dog', '--model', model, '--steps1', '2', '--steps2', '0', '--batch', '1', '--latent', '8', '--preview-steps', '2'];
    const refused = cli([...base, '--preview', 'a dog on a beach']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--preview: a preview prompt needs the concept's placeholder \*/);

    const learned = cli([...base, '--preview', '* {class} on a beach', '--preview', 'a painting of * {class}', '--preview-every', '1', '--json']);
    expect(learned.status, learned.stderr).toBe(0);
    expect(learned.stderr).toMatch(/Stage I · step 1\/2 · .* · ETA .* · [\d.]+ [MG]B/);
    expect(learned.stderr).toMatch(/Previews at step 1: 2 drawn; write them out with `singleinsert runs previews run_\w+ --out <folder>`/);
    expect(learned.stderr).toMatch(/Previews of the finished concept: 2 drawn/);
    const { run } = JSON.parse(learned.stdout) as { run: TrainingRun };
    expect(run.settings.previewPrompts).toEqual(['* {class} on a beach', 'a painting of * {class}']);

    const shown = cli(['runs', 'show', run.id]).stdout;
    expect(shown).toMatch(/memory\s+[\d.]+ [MG]B after the last step, at most [\d.]+ [MG]B/);
    expect(shown).toMatch(/previews\s+4 at steps 1, 2/);
    const out = join(root, 'previews-out');
    const written = cli(['runs', 'previews', run.id, '--out', out, '--step', '2']);
    expect(written.status, written.stderr).toBe(0);
    expect(written.stdout.trim().split('\n')).toEqual([
      `${join(out, 'step-00002-p0.png')}\t* dog on a beach\t(finished concept)`,
      `${join(out, 'step-00002-p1.png')}\ta painting of * dog\t(finished concept)`,
    ]);
    expect((await sharp(join(out, 'step-00002-p0.png')).metadata()).width).toBe(16);
    expect(cli(['runs', 'previews', run.id, '--out', out, '--step', '9']).stderr).toMatch(/no previews at step 9/);

    const deleted = cli(['runs', 'delete', run.id]);
    expect(deleted.stderr).toMatch(/Run run_\w+ deleted \(4 files freed\)/);
    expect(cli(['runs', 'show', run.id]).stderr).toMatch(/No training run/);
    expect(cli(['library', 'list', '--json']).stdout).toContain(run.conceptId!);
  });
});
