import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP_TEXT } from '../../src-main/models/tiny-configs.js';
import type { VisionConfig } from '../../src-main/models/vision.js';
import { readConceptFile, writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { learnConcept, PAPER_SETTINGS, prepareExample } from '../../src-main/pipeline/invert/learn.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/sample/generate.js';
import { openStableDiffusion, type StableDiffusionModel } from '../../src-main/weights/sd-loader.js';
import { RandomSource } from '../../src-main/weights/sources.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTinyClipVision, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';

const VISION: VisionConfig = { imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 12, eps: 1e-5, tokenDim: TINY_CLIP_TEXT.hiddenSize };

describe('learn a concept from one photo, then generate with it (tiny SD)', { timeout: 180_000 }, () => {
  let root: string;
  let sd: StableDiffusionModel;
  let conceptPath: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-learn-'));
    sd = openStableDiffusion(writeTinySingleFile(join(root, 'tiny.safetensors')));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prepares the photo (latents, soft mask at latent size, CLIP pixels, prompts) and runs both stages', async () => {
    const photo = readFileSync(fixtureImage('dog_00.jpg'));
    const mask = await sharp({ create: { width: 780, height: 780, channels: 3, background: '#000' } })
      .composite([{ input: Buffer.from('<svg width="780" height="780"><circle cx="390" cy="420" r="300" fill="#fff"/></svg>') }])
      .png()
      .toBuffer();
    const example = await prepareExample(sd, VISION, photo, mask, 'dog', { cacheDir: join(root, 'cache'), latentSize: 8 });
    expect(example.x0).toHaveLength(4 * 8 * 8);
    expect(example.mask).toHaveLength(64);
    expect(example.mask[0]).toBe(0); // corner: background
    expect(example.mask[4 * 8 + 4]).toBeGreaterThan(0.9); // centre: the dog
    expect(sd.tokenizer.decode(example.idsClass)).toBe('dog');
    expect(example.placeholderPosition).toBe(1);

    const progress: string[] = [];
    const learned = await learnConcept(sd, { config: VISION, source: new RandomSource(7) }, example, {
      ...PAPER_SETTINGS,
      steps1: 3,
      steps2: 3,
      batch: 2,
      lr1: 1e-3,
      lr2: 1e-3,
      seed: 1,
      cacheDir: join(root, 'cache'),
      onProgress: (p) => progress.push(`${p.stage}:${p.step}/${p.total}`),
    });
    expect(progress).toEqual(['1:1/3', '1:2/3', '1:3/3', '2:1/3', '2:2/3', '2:3/3']);
    expect(learned.token).toHaveLength(TINY_CLIP_TEXT.hiddenSize);
    expect(learned.losses.every((l) => Number.isFinite(l.loss))).toBe(true);
    const names = Object.keys(learned.lora);
    expect(names.some((n) => n.startsWith('unet.') && n.endsWith('lora_B.weight'))).toBe(true);
    expect(names.some((n) => n.startsWith('text_model.'))).toBe(true);
    // after Stage II steps, B is no longer zero
    const someB = learned.lora[names.find((n) => n.endsWith('attn2.to_v.lora_B.weight'))!]!;
    expect(someB.data.some((v) => v !== 0)).toBe(true);

    conceptPath = join(root, 'concept.safetensors');
    writeConceptFile(conceptPath, learned.token, learned.lora, { classWord: 'dog', baseModel: 'tiny', loraRank: 4 });
    const loaded = readConceptFile(conceptPath, 'rex');
    expect(Array.from(loaded.token)).toEqual(Array.from(learned.token));
    expect(loaded.meta).toEqual({ classWord: 'dog', baseModel: 'tiny', loraRank: 4 });
  });

  it('works through the CLI: mask → learn → library → generate --concept', async () => {
    const dataDir = join(root, 'library');
    const model = join(root, 'tiny.safetensors');
    const encoder = writeTinyClipVision(join(root, 'clip-vision'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await runCli(['import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir], io, {})).toBe(0);
    const imageId = out.at(-1)!.split('\t')[0]!;
    expect(await runCli(['learn', imageId, '--class', 'dog', '--model', model, '--encoder', encoder, '--data-dir', dataDir], io, {})).toBe(1);
    expect(err.at(-1)).toMatch(/No "dog" mask for img_.*singleinsert mask/);
    expect(await runCli(['mask', imageId, '--class', 'dog', '--point', '390,390', '--out', join(root, 'm.png'), '--data-dir', dataDir], io, {})).toBe(0);
    const learn = ['learn', imageId, '--class', 'dog', '--model', model, '--encoder', encoder, '--steps1', '2', '--steps2', '2', '--batch', '1', '--latent', '8', '--name', 'Rex', '--data-dir', dataDir];
    expect(await runCli(learn, io, {})).toBe(0);
    expect(err.filter((l) => l.startsWith('stage'))).toHaveLength(4);
    const conceptId = out.at(-1)!.split('\t')[0]!;
    expect(conceptId).toMatch(/^con_/);
    const library = Library.open(dataDir);
    expect(library.listConcepts()).toMatchObject([{ id: conceptId, name: 'Rex', classWord: 'dog', status: 'ready', imageId }]);
    library.close();
    const gen = ['generate', '--model', model, '--concept', conceptId, '--prompt', '* dog in the snow', '--steps', '2', '--width', '16', '--height', '16', '--seed', '3', '--out', join(root, 'gen'), '--data-dir', dataDir];
    expect(await runCli(gen, io, {})).toBe(0);
    expect((await sharp(readFileSync(out.at(-1)!)).metadata()).format).toBe('png');
    // deleting the concept removes its file
    expect(await runCli(['library', 'rm', conceptId, '--data-dir', dataDir], io, {})).toBe(0);
    expect(out.at(-1)).toBe(`removed ${conceptId} (1 file)`);
  });

  it('generates with the concept: its token and LoRA change the image; a prompt without * is refused', async () => {
    const concept = readConceptFile(conceptPath, 'rex');
    const settings = defaultSettings(sd, { prompt: '* dog on a beach', steps: 3, seed: 5, width: 16, height: 16 });
    const cacheDir = join(root, 'cache');
    const plain = await generateImages(sd, settings, { cacheDir });
    const withConcept = await generateImages(sd, settings, { cacheDir, concepts: [{ placeholder: '*', concept }] });
    expect((await sharp(withConcept.images[0]!.png).metadata()).format).toBe('png');
    expect(withConcept.images[0]!.png.equals(plain.images[0]!.png)).toBe(false);
    await expect(generateImages(sd, { ...settings, prompt: 'a dog on a beach' }, { cacheDir, concepts: [{ placeholder: '*', concept }] })).rejects.toThrow(/does not use \*/);
  });
});
