// The concept report card end to end on tiny random models: `singleinsert evaluate` draws the fixed, seeded set,
// measures it with whichever metric models are installed, says which model each missing metric needs, and keeps the
// report; its numbers are recomputed here from the images it stored.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluationReport, METRIC_KEYS } from '../../src-preload/contract/evaluations.js';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { planarImage, planarMask } from '../../src-main/pipeline/evaluate/evaluate-concept.js';
import { cosine, meanOf, pairs } from '../../src-main/pipeline/evaluate/metric-math.js';
import { ClipScorer, LpipsScorer } from '../../src-main/pipeline/evaluate/metric-scorers.js';
import { openClipModel, openLpips } from '../../src-main/weights/metric-models.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { discMaskPng } from '../helpers/masks.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTestDetector } from '../helpers/test-detector.js';
import { writeTinyClipModel, writeTinyDino, writeTinyLpips, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('singleinsert evaluate (tiny SD, tiny metric networks)', { timeout: 300_000 }, () => {
  let root: string;
  let dataDir: string;
  let conceptId: string;
  let photoMask: Buffer;
  const small = ['--prompts', '2', '--seeds', '2', '--steps', '2', '--provider', 'cpu'];

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([...args, '--data-dir', dataDir], { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
    return { code, out, err };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-evaluate-'));
    dataDir = join(root, 'library');
    expect((await cli('models', 'add', writeTinySingleFile(join(root, 'tiny.safetensors')), '--name', 'tiny')).code).toBe(0);
    const imported = await cli('import', fixtureImage('dog_00.jpg'));
    const imageId = imported.out.at(-1)!.split('\t')[0]!;
    const library = Library.open(dataDir);
    const image = library.images.get(imageId);
    photoMask = await discMaskPng(image.width, image.height);
    const mask = await library.masks.save({ imageId, classWord: 'dog', png: photoMask, source: 'manual' });
    const file = readFileSync(writeRandomConcept(join(root, 'rex.safetensors'), 5, 'dog'));
    conceptId = (await library.concepts.add({ name: 'Rex', classWord: 'dog', imageId, maskId: mask.id, baseModelId: null, file })).id;
    library.close();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  let bare: EvaluationReport;
  it('without metric models: draws and keeps the set, and says which metric needs which model and where to add it', async () => {
    const run = await cli('evaluate', conceptId, '--model', 'tiny', ...small, '--json');
    expect(run.code, run.err.join('\n')).toBe(0);
    bare = JSON.parse(run.out[0]!) as EvaluationReport;
    expect(bare.images).toHaveLength(4);
    expect(bare.set).toMatchObject({ list: 'dog', seeds: 2, steps: 2, promptFileVersion: 1 });
    expect(bare.set.prompts.map((p) => p.prompt)).toEqual(['* dog on the beach', '* dog wearing a red scarf']);
    for (const k of METRIC_KEYS) expect(bare.metrics[k].value, k).toBeNull();
    expect(bare.metrics.clipT.missing).toMatch(/CLIP model folder.*singleinsert models add/);
    expect(bare.metrics.dinoF.missing).toMatch(/DINO folder \(facebook\/dino-vits16/);
    expect(bare.metrics.div.missing).toMatch(/LPIPS/);
    expect(run.err.join('\n')).toMatch(/Without CLIP, DINO, LPIPS: CLIP-I-f, CLIP-I-b, DINO-f, DINO-b, CLIP-T, DIV, ESR will not be measured/);
    expect(bare.stage).toBe(2);
  });

  let full: EvaluationReport;
  it('with CLIP, DINO and LPIPS installed: every metric, the same seeded images, and numbers that recompute from them', async () => {
    for (const path of [writeTinyClipModel(join(root, 'clip')), writeTinyDino(join(root, 'dino')), writeTinyLpips(join(root, 'lpips.safetensors'))]) {
      const added = await cli('models', 'add', path);
      expect(added.code, added.err.join('\n')).toBe(0);
    }
    expect((await cli('models', 'list', '--json')).out.join('\n')).toMatch(/"family": "lpips"/);
    const run = await cli('evaluate', conceptId, '--model', 'tiny', ...small, '--label', 'Faithful', '--json', '--csv', join(root, 'report.csv'));
    expect(run.code, run.err.join('\n')).toBe(0);
    full = JSON.parse(run.out[0]!) as EvaluationReport;
    // a fixed, seeded set: the same images as without the metric models
    expect(full.images.map((i) => i.sha256)).toEqual(bare.images.map((i) => i.sha256));
    expect(full.images.map((i) => i.seed)).toEqual([20250, 20251, 20250, 20251]);
    for (const k of METRIC_KEYS) expect(full.metrics[k].missing, k).toBeNull();
    expect(full.models.dino).toMatch(/DINO v1 ViT-24-wide\/8/);
    expect(full.models.segmentation).toMatch(/concept’s own mask/);
    // the averages are the per-image scores' means; ESR the share of edits judged successful
    for (const k of ['clipIF', 'clipIB', 'dinoF', 'dinoB', 'clipT'] as const)
      expect(full.metrics[k].value).toBeCloseTo(meanOf(full.images.map((i) => i.scores[k]))!, 12);
    expect(full.metrics.esr.value).toBe(full.images.filter((i) => i.edited).length / 4);

    // recomputed from the stored images, the photo and its mask
    const library = Library.open(dataDir);
    try {
      const options = { provider: 'cpu' as const, cacheDir: join(root, 'cache') };
      const clip = await ClipScorer.open(openClipModel(join(root, 'clip')), options);
      const lpips = await LpipsScorer.open(openLpips(join(root, 'lpips.safetensors')), options);
      const concept = library.concepts.get(conceptId);
      const photo = await planarImage(await library.store.read(library.images.get(concept.imageId!).sha256));
      const mask = await planarMask(photoMask, photo.width, photo.height);
      const images = await Promise.all(full.images.map(async (i) => planarImage(await library.store.read(i.sha256))));
      const first = images[0]!;
      const firstMask = await planarMask(photoMask, first.width, first.height);
      expect(cosine(await clip.embedImage(first, firstMask), await clip.embedImage(photo, mask))).toBeCloseTo(full.images[0]!.scores.clipIF!, 5);
      expect(cosine(await clip.embedImage(first, firstMask, true), await clip.embedImage(photo, mask, true))).toBeCloseTo(full.images[0]!.scores.clipIB!, 5);
      expect(cosine(await clip.embedImage(first, null), await clip.embedText('dog on the beach'))).toBeCloseTo(full.images[0]!.scores.clipT!, 5);
      const perPrompt: number[] = [];
      for (const members of [
        [0, 1],
        [2, 3],
      ]) {
        for (const [a, b] of pairs(2)) perPrompt.push(await lpips.distance(lpips.prepare(images[members[a]!]!), lpips.prepare(images[members[b]!]!)));
      }
      expect(full.metrics.div.value).toBeCloseTo((perPrompt[0]! + perPrompt[1]!) / 2, 5);
      expect(full.metrics.div.value).toBeGreaterThan(0);
      await clip.release();
      await lpips.release();
      expect(library.evaluations.list(conceptId).map((e) => e.label)).toEqual(['Faithful', 'Rex']);
    } finally {
      library.close();
    }
    const csv = readFileSync(join(root, 'report.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('row,prompt,seed,CLIP-I-f,CLIP-I-b,DINO-f,DINO-b,CLIP-T,DIV,ESR,edited,mask,image_sha256');
    expect(csv).toHaveLength(1 + 4 + 2);
    expect(csv.at(-1)).toBe('paper (Stage 2),,,0.857,0.601,0.609,0.176,0.311,0.753,0.825,,,');
  });

  it('shows, compares, exports and removes report cards from the command line', async () => {
    const unknown = await cli('evaluate', 'Fido', '--model', 'tiny');
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/No concept is called "Fido"/);
    const shown = await cli('evaluations', 'show', full.id);
    expect(shown.out.join('\n')).toMatch(/CLIP-I-f\s+\d\.\d{3}\s+0\.857/);
    expect(shown.out.join('\n')).toMatch(/judge\s+An edit succeeds when/);
    const compared = await cli('evaluations', 'compare', bare.id, full.id);
    expect(compared.out[0]).toMatch(/^metric\s+Rex\s+Faithful/);
    expect(compared.out.find((l) => l.startsWith('CLIP-T'))).toMatch(/—\s+-?\d\.\d{3}\s+↑ better/);
    const exported = await cli('evaluations', 'export', full.id, '--format', 'json');
    expect((JSON.parse(exported.out.join('\n')) as EvaluationReport).metrics).toEqual(full.metrics);
    expect((await cli('evaluations', 'remove', bare.id)).code).toBe(0);
    expect((await cli('evaluations', 'list', '--json')).out[0]).not.toContain(bare.id);
    const missing = await cli('evaluations', 'show', bare.id);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/No evaluation/);
  });

  it('finds the subject in each image with GroundingDINO + SAM when a detector is installed, and says so', async () => {
    expect((await cli('models', 'add', writeTestDetector(join(root, 'detector'), { wordQuery: 2.2, periodQuery: -1 }))).code).toBe(0);
    const run = await cli('evaluate', 'Rex', '--model', 'tiny', '--prompts', '1', '--seeds', '2', '--steps', '2', '--provider', 'cpu', '--json');
    expect(run.code, run.err.join('\n')).toBe(0);
    const withDetector = JSON.parse(run.out[0]!) as EvaluationReport;
    expect(withDetector.models.segmentation).toMatch(/^GroundingDINO \(detector\) \+ SAM on “dog”/);
    expect(withDetector.images.map((i) => i.maskSource)).toEqual(['detector', 'detector']);
    // the same images as before, measured through other masks
    expect(withDetector.images.map((i) => i.sha256)).toEqual(full.images.slice(0, 2).map((i) => i.sha256));
    expect(withDetector.images[0]!.scores.clipIF).not.toBeCloseTo(full.images[0]!.scores.clipIF!, 6);
    expect(withDetector.images[0]!.scores.clipT).toBeCloseTo(full.images[0]!.scores.clipT!, 6);
  });
});
