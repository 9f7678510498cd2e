// Composing concepts learned apart (tiny SD): each concept owns its placeholder and class word, each
// LoRA adds, regions confine them, the same settings give the same bytes, and the CLI takes regions,
// views and composition files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { readConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/compose/generate.js';
import { conceptTokens } from '../../src-main/pipeline/compose/prompt.js';
import { readPngText } from '../../src-main/pipeline/sample/png-metadata.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('composing concepts, with regions (tiny SD)', { timeout: 180_000 }, () => {
  let root: string;
  let model: string;
  let sd: StableDiffusionModel;
  let cacheDir: string;
  const concept = (seed: number, classWord: string) => readConceptFile(writeRandomConcept(join(root, `c${seed}.safetensors`), seed, classWord), `c${seed}`);
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-compose-'));
    model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    sd = openStableDiffusion(model);
    cacheDir = join(root, 'cache');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();
  const meanDiff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

  it('gives each concept its placeholder and the class word after it', () => {
    const dog = concept(1, 'dog');
    const hair = concept(2, 'hair');
    const { placed, owned } = conceptTokens(sd, 'a * dog with *2 hair', [
      { placeholder: '*', concept: dog },
      { placeholder: '*2', concept: hair },
    ]);
    expect(placed).toEqual([[2], [5]]);
    expect(owned).toEqual([
      [2, 3],
      [5, 6],
    ]);
    // without its token a concept's placeholder leaves the prompt: "*2 hair" reads "hair", still the concept's
    const off = conceptTokens(sd, 'a * dog with *2 hair', [
      { placeholder: '*', concept: dog },
      { placeholder: '*2', concept: hair, useToken: false },
    ]);
    expect(off.ids).toEqual(conceptTokens(sd, 'a * dog with hair', [{ placeholder: '*', concept: dog }]).ids);
    expect(off.placed).toEqual([[2], []]);
    expect(off.owned).toEqual([[2, 3], [5]]);
    // a placeholder the prompt does not use is refused, saying where it goes
    expect(() => conceptTokens(sd, 'a * dog', [{ placeholder: '*2', concept: hair }])).toThrow(
      /does not use \*2; write it where the concept goes \("\*2 hair …"\)/,
    );
    // a style (a LoRA, no token) needs no placeholder: it owns no prompt token
    const style = conceptTokens(sd, 'a * dog', [
      { placeholder: '*', concept: dog },
      { placeholder: '*2', concept: { ...hair, token: null } },
    ]);
    expect(style.ids).toEqual(conceptTokens(sd, 'a * dog', [{ placeholder: '*', concept: dog }]).ids);
    expect(style.owned).toEqual([[2, 3], []]);
  });

  it('each LoRA adds; regions confine them; full-canvas regions are plain composition; the same settings give the same bytes', async () => {
    const concepts = [
      { placeholder: '*', concept: concept(1, 'dog') },
      { placeholder: '*2', concept: concept(2, 'hat') },
    ];
    const settings = defaultSettings(sd, { prompt: 'a * dog wearing a *2 hat', steps: 3, seed: 4, width: 32, height: 32 });
    const draw = async (o: Parameters<typeof generateImages>[2] = {}) => (await generateImages(sd, settings, { cacheDir, ...o })).images[0]!.png;
    const both = await draw({ concepts });
    const noLoraOnSecond = await draw({ concepts: [concepts[0]!, { ...concepts[1]!, scale: 0 }] });
    expect(meanDiff(await pixels(both), await pixels(noLoraOnSecond))).toBeGreaterThan(0.5); // the second LoRA adds
    const noTokenOnSecond = await draw({ concepts: [concepts[0]!, { ...concepts[1]!, useToken: false }] });
    expect(meanDiff(await pixels(both), await pixels(noTokenOnSecond))).toBeGreaterThan(0.5); // and so does its token
    // the same LoRA as a style (no token, no placeholder in the prompt) draws what the tokenless concept draws
    const asStyle = await generateImages(
      sd,
      { ...settings, prompt: 'a * dog wearing a hat' },
      { cacheDir, concepts: [concepts[0]!, { placeholder: '*2', concept: { ...concepts[1]!.concept, token: null } }] },
    );
    expect(meanDiff(await pixels(asStyle.images[0]!.png), await pixels(noTokenOnSecond))).toBe(0);

    const full = await draw({
      concepts,
      regions: [
        { placeholder: '*', box: [0, 0, 32, 32] },
        { placeholder: '*2', box: [0, 0, 32, 32] },
      ],
    });
    expect(meanDiff(await pixels(full), await pixels(both))).toBeLessThan(0.05);

    const halves = {
      concepts,
      regions: [
        { placeholder: '*', box: [0, 0, 16, 32] as const },
        { placeholder: '*2', box: [16, 0, 32, 32] as const },
      ],
    };
    const regional = await draw(halves);
    expect(meanDiff(await pixels(regional), await pixels(both))).toBeGreaterThan(0.5);
    expect((await draw(halves)).equals(regional)).toBe(true); // reproducible to the byte

    // overlapping regions are allowed and said how they mix; bad regions are refused
    const overlapping = await generateImages(sd, settings, {
      cacheDir,
      concepts,
      regions: [
        { placeholder: '*', box: [0, 0, 24, 32] },
        { placeholder: '*2', box: [8, 0, 32, 32] },
      ],
    });
    expect(overlapping.notes).toEqual(['The regions of * and *2 overlap (50 % of the image): there both act — both tokens are attended and both LoRAs add.']);
    await expect(draw({ concepts, regions: [{ placeholder: '*', box: [40, 0, 60, 10] }] })).rejects.toThrow(
      /region of \* \(40, 0, 60, 10\) lies outside the 32×32 canvas/,
    );
    await expect(draw({ concepts, regions: [{ placeholder: '*3', box: [0, 0, 8, 8] }] })).rejects.toThrow(
      /A region is given for \*3, but no concept is placed at \*3/,
    );
    await expect(generateImages(sd, { ...settings, prompt: '  ' }, { cacheDir })).rejects.toThrow(/The prompt is empty/);
  });

  it('the CLI: --region, --view and --composition give the same image, and the image links both concepts with their strengths', async () => {
    const dataDir = join(root, 'library');
    const library = Library.open(dataDir);
    const add = async (seed: number, classWord: string) =>
      (
        await library.concepts.add({
          name: classWord,
          classWord,
          imageId: null,
          maskId: null,
          baseModelId: null,
          file: readFileSync(writeRandomConcept(join(root, `lib${seed}.safetensors`), seed, classWord)),
        })
      ).id;
    const dog = await add(1, 'dog');
    const hat = await add(2, 'hat');
    library.close();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const common = ['--model', model, '--steps', '2', '--seed', '9', '--width', '32', '--height', '32', '--data-dir', dataDir];
    const flags = [
      'generate',
      ...common,
      '--prompt',
      'a * dog wearing a *2 hat',
      '--concept',
      dog,
      '--concept',
      `*2=${hat}`,
      '--region',
      '*=0,0,0.5,1',
      '--region',
      '*2=16,0,32,32',
      '--view',
      'side',
      '--out',
      join(root, 'a'),
    ];
    expect(await runCli(flags, io, {}), err.join('\n')).toBe(0);
    const first = readFileSync(out.at(-1)!);
    expect(readPngText(first).parameters).toMatch(/^a \* dog wearing a \*2 hat, side view, full body in profile\nNegative prompt: /); // the side view as a dog is described
    // the PNG says what made it beyond the settings: each concept by name with its strength, the regions, the view
    const text = readPngText(first);
    expect(text.parameters).toMatch(
      /, SingleInsert concepts: "\* dog \(dog\) x1; \*2 hat \(hat\) x1", Regions: "\* box 0 0 0\.5 1; \*2 box 16 0 32 32", View: side$/,
    );
    const own = JSON.parse(text.singleinsert!) as { concepts: unknown; regions: unknown; view: string; composition: { seed: number; concepts: unknown[] } };
    expect(own.concepts).toEqual([
      { placeholder: '*', conceptId: dog, name: 'dog', classWord: 'dog', scale: 1, useToken: true },
      { placeholder: '*2', conceptId: hat, name: 'hat', classWord: 'hat', scale: 1, useToken: true },
    ]);
    expect(own.regions).toEqual([
      { placeholder: '*', box: [0, 0, 0.5, 1] },
      { placeholder: '*2', box: [16, 0, 32, 32] }, // in pixels, as the flag gave it
    ]);
    expect(own.view).toBe('side');
    expect(own.composition).toMatchObject({ seed: 9, prompt: 'a * dog wearing a *2 hat', view: 'side' });

    const file = join(root, 'composition.json');
    writeFileSync(
      file,
      JSON.stringify({
        prompt: 'a * dog wearing a *2 hat',
        view: 'side',
        concepts: [
          { placeholder: '*', conceptId: dog },
          { placeholder: '*2', conceptId: hat, scale: 1 },
        ],
        regions: [
          { placeholder: '*', box: [0, 0, 0.5, 1] },
          { placeholder: '*2', box: [0.5, 0, 1, 1] },
        ],
      }),
    );
    expect(await runCli(['generate', ...common, '--composition', file, '--out', join(root, 'b')], io, {}), err.join('\n')).toBe(0);
    // the same pixels (the PNG's text differs only where it writes the boxes as they were given: in pixels, in fractions)
    const second = readFileSync(out.at(-1)!);
    const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();
    expect((await pixels(second)).equals(await pixels(first))).toBe(true);
    expect(readPngText(second).parameters).toBe(readPngText(first).parameters!.replace('*2 box 16 0 32 32', '*2 box 0.5 0 1 1'));

    const lib = Library.open(dataDir);
    const [latest] = lib.generations.list();
    expect(lib.generations.concepts(latest!.id)).toEqual([
      { conceptId: dog, placeholder: '*', scale: 1 },
      { conceptId: hat, placeholder: '*2', scale: 1 },
    ]);
    lib.close();

    // a painted region draws exactly what the box of the same pixels draws
    const leftHalf = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: { create: { width: 4, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const painted = join(root, 'painted.json');
    const withRegion = (region: object) =>
      JSON.stringify({
        prompt: 'a * dog wearing a *2 hat',
        concepts: [
          { placeholder: '*', conceptId: dog },
          { placeholder: '*2', conceptId: hat },
        ],
        regions: [region],
      });
    writeFileSync(painted, withRegion({ placeholder: '*', paint: `data:image/png;base64,${leftHalf.toString('base64')}` }));
    writeFileSync(file, withRegion({ placeholder: '*', box: [0, 0, 0.5, 1] }));
    expect(await runCli(['generate', ...common, '--composition', painted, '--out', join(root, 'p')], io, {}), err.join('\n')).toBe(0);
    const byPaint = readFileSync(out.at(-1)!);
    expect(await runCli(['generate', ...common, '--composition', file, '--out', join(root, 'q')], io, {}), err.join('\n')).toBe(0);
    expect((await pixels(readFileSync(out.at(-1)!))).equals(await pixels(byPaint))).toBe(true);
    expect(readPngText(byPaint).parameters).toMatch(/Regions: "\* painted"$/);

    // strengths (a negative one subtracts the LoRA, as in A1111), a concept without its token, Karras sigmas
    const tuned = [
      'generate',
      ...common,
      '--prompt',
      'a * dog wearing a *2 hat',
      '--concept',
      dog,
      '--concept',
      `*2=${hat}`,
      '--strength',
      '*2=-0.5',
      '--no-token',
      '*2',
      '--sampler',
      'euler',
      '--karras',
      '--out',
      join(root, 'c'),
    ];
    expect(await runCli(tuned, io, {}), err.join('\n')).toBe(0);
    expect(readPngText(readFileSync(out.at(-1)!)).parameters).toMatch(/Sampler: euler, Schedule type: Karras/);
    const lib2 = Library.open(dataDir);
    const [tunedRecord] = lib2.generations.list();
    expect(tunedRecord!.concepts[1]).toEqual({ conceptId: hat, placeholder: '*2', scale: -0.5 });
    expect(tunedRecord!.composition!.concepts[1]).toMatchObject({ useToken: false, scale: -0.5 });
    lib2.close();
    expect(
      await runCli(
        tuned.map((a) => (a === '*2=-0.5' ? '*2=-2.5' : a)),
        io,
        {},
      ),
    ).toBe(2);
    expect(err.at(-1)).toMatch(/concepts\.1\.scale: .*-2/);
    expect(await runCli(['generate', ...common, '--prompt', 'a dog', '--karras'], io, {})).toBe(2);
    expect(err.at(-1)).toMatch(/karras: only Euler, DPM\+\+ 2M, DPM\+\+ 2M SDE, DPM\+\+ SDE, UniPC take Karras sigmas, not DDIM/);

    // wrong regions and views are usage errors that say what is wrong
    expect(await runCli(['generate', ...common, '--prompt', 'a * dog', '--concept', dog, '--region', '*2=0,0,1,1'], io, {})).toBe(2);
    expect(err.at(-1)).toMatch(/regions\.0\.placeholder: no concept is placed at \*2/);
    expect(await runCli(['generate', ...common, '--prompt', 'a * dog', '--concept', dog, '--region', '*=0.5,0,0.2,1'], io, {})).toBe(2);
    expect(err.at(-1)).toMatch(/--region \*=0\.5,0,0\.2,1: a region box is x0,y0,x1,y1 with x1 > x0/);
    expect(await runCli(['generate', ...common, '--prompt', 'a dog', '--view', 'underneath'], io, {})).toBe(2);
    expect(err.at(-1)).toMatch(/view: /);
  });
});
