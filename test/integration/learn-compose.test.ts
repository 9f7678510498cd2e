import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { adaptedLayers } from '../../src-main/models/lora-modules.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { readConceptFile, writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { prepareExample } from '../../src-main/pipeline/learn/example.js';
import { CLIP_MEAN, CLIP_STD } from '../../src-main/models/vision.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/compose/generate.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTinyClipVision, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { TINY_VISION } from '../helpers/tiny-singleinsert.js';
import { writeRandomConcept } from '../helpers/random-concept.js';

describe('learn a concept from one photo, then generate with it (tiny SD)', { timeout: 180_000 }, () => {
  let root: string;
  let sd: StableDiffusionModel;
  let photo: Buffer;
  let mask: Buffer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-learn-'));
    sd = openStableDiffusion(writeTinySingleFile(join(root, 'tiny.safetensors')));
    photo = readFileSync(fixtureImage('dog_00.jpg'));
    mask = await sharp({ create: { width: 780, height: 780, channels: 3, background: '#000' } })
      .composite([{ input: Buffer.from('<svg width="780" height="780"><circle cx="390" cy="420" r="300" fill="#fff"/></svg>') }])
      .png()
      .toBuffer();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("prepares the photo: latent posterior, soft mask at latent size, the encoder's pixels, prompts", async () => {
    const cacheDir = join(root, 'cache-example');
    const official = await prepareExample(sd, { config: TINY_VISION, pixels: 'signed' }, photo, mask, 'dog', { cacheDir, latentSize: 8, sampleLatents: true });
    expect(official.x0).toHaveLength(4 * 8 * 8);
    expect(official.x0Std).toHaveLength(4 * 8 * 8);
    expect(official.x0Std!.every((v) => v > 0)).toBe(true);
    expect(official.mask).toHaveLength(64);
    expect(official.mask[0]).toBe(0); // corner: background
    expect(official.mask[4 * 8 + 4]).toBeGreaterThan(0.9); // centre: the dog
    expect(sd.tokenizer.decode(official.idsClass)).toBe('dog');
    expect(official.placeholderPosition).toBe(1);
    // the official encoder sees [−1, 1]; CLIP sees its own normalisation of the same pixels
    const clip = await prepareExample(sd, { config: TINY_VISION, pixels: 'clip' }, photo, mask, 'dog', { cacheDir, latentSize: 8 });
    expect(clip.x0Std).toBeUndefined();
    expect(Math.min(...official.pixels)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...official.pixels)).toBeLessThanOrEqual(1);
    for (const i of [0, 500, 3 * 32 * 32 - 1]) {
      const c = Math.floor(i / (32 * 32));
      expect(clip.pixels[i]).toBeCloseTo(((official.pixels[i]! + 1) / 2 - CLIP_MEAN[c]!) / CLIP_STD[c]!, 4);
    }
  });

  it('works through the CLI: mask → learn (CLIP encoder) → library → generate --concept → remove', async () => {
    const dataDir = join(root, 'library');
    const model = join(root, 'tiny.safetensors');
    const encoder = writeTinyClipVision(join(root, 'clip-vision'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await runCli(['import', fixtureImage('dog_00.jpg'), '--data-dir', dataDir], io, {})).toBe(0);
    const imageId = out.at(-1)!.split('\t')[0]!;
    expect(await runCli(['learn', imageId, '--class', 'dog', '--model', model, '--encoder', encoder, '--data-dir', dataDir], io, {})).toBe(1);
    expect(err.at(-1)).toMatch(/No "dog" mask for .*singleinsert mask/);
    expect(await runCli(['mask', imageId, '--class', 'dog', '--point', '390,390', '--out', join(root, 'm.png'), '--data-dir', dataDir], io, {})).toBe(0);
    const learn = [
      'learn',
      imageId,
      '--class',
      'dog',
      '--model',
      model,
      '--encoder',
      encoder,
      '--steps1',
      '2',
      '--steps2',
      '2',
      '--batch',
      '1',
      '--latent',
      '8',
      '--lr2',
      '1e-2',
      '--name',
      'Rex',
      '--data-dir',
      dataDir,
    ];
    expect(await runCli(learn, io, {})).toBe(0);
    expect(err.filter((l) => /^Stage I+ · step \d\/4/.test(l))).toHaveLength(4);
    const conceptId = out.at(-1)!.split('\t')[0]!;
    expect(conceptId).toMatch(/^con_/);
    const library = Library.open(dataDir);
    const conceptFile = library.concepts.filePath(conceptId);
    expect(library.concepts.list()).toMatchObject([{ id: conceptId, name: 'Rex', classWord: 'dog', status: 'ready', imageId }]);
    library.close();
    const gen = [
      'generate',
      '--model',
      model,
      '--concept',
      conceptId,
      '--prompt',
      '* dog in the snow',
      '--steps',
      '2',
      '--width',
      '16',
      '--height',
      '16',
      '--seed',
      '3',
      '--out',
      join(root, 'gen'),
      '--data-dir',
      dataDir,
    ];
    expect(await runCli(gen, io, {})).toBe(0);
    expect((await sharp(readFileSync(out.at(-1)!)).metadata()).format).toBe('png');

    // Stage II moved the LoRA off its start (B = 0), and the token is a real vector
    const concept = readConceptFile(conceptFile, 'rex');
    expect(concept.token).toHaveLength(TINY_CLIP_TEXT.hiddenSize);
    expect(concept.token!.every(Number.isFinite)).toBe(true);
    const upName = adaptedLayers(TINY_UNET, TINY_CLIP_TEXT).map((l) => `${l.module}.lora_B.weight`)[0]!;
    expect((concept.lora.load(upName, 'float32', concept.lora.shapeOf(upName, [])!, { inMemory: true }) as Float32Array).some((v) => v !== 0)).toBe(true);

    // deleting the concept removes its files
    expect(await runCli(['library', 'rm', conceptId, '--data-dir', dataDir], io, {})).toBe(0);
    expect(out.at(-1)).toBe(`removed ${conceptId} (2 files)`); // its file and the thumbnail drawn with it
  });

  it('a concept’s token and its LoRA each change the image, alone and together', async () => {
    const full = readConceptFile(writeRandomConcept(join(root, 'random.safetensors'), 11, 'dog'), 'random');
    const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const { module } of adaptedLayers(TINY_UNET, TINY_CLIP_TEXT)) {
      for (const name of [`${module}.lora_A.weight`, `${module}.lora_B.weight`]) {
        const shape = [...full.lora.shapeOf(name, [])!];
        lora[name] = { shape, data: full.lora.load(name, 'float32', shape, { inMemory: true }) as Float32Array };
      }
    }
    const zero = new Float32Array(full.token!.length);
    const conceptOf = (name: string, token: Float32Array, withLora: boolean) => {
      writeConceptFile(join(root, `${name}.safetensors`), token, withLora ? lora : {}, full.meta);
      return readConceptFile(join(root, `${name}.safetensors`), name);
    };
    const settings = defaultSettings(sd, { prompt: '* dog on a beach', steps: 3, seed: 5, width: 16, height: 16 });
    const cacheDir = join(root, 'cache-effects');
    const draw = async (name: string, token: Float32Array, withLora: boolean) =>
      (await generateImages(sd, settings, { cacheDir, concepts: [{ placeholder: '*', concept: conceptOf(name, token, withLora) }] })).images[0]!.png;
    const neither = await draw('neither', zero, false);
    const tokenOnly = await draw('token-only', full.token!, false);
    const loraOnly = await draw('lora-only', zero, true);
    const both = await draw('both', full.token!, true);
    expect(await draw('neither-again', zero, false)).toEqual(neither); // drawing is deterministic, so a difference is an effect
    expect(tokenOnly.equals(neither)).toBe(false);
    expect(loraOnly.equals(neither)).toBe(false);
    expect(both.equals(tokenOnly)).toBe(false);
    expect(both.equals(loraOnly)).toBe(false);
    await expect(
      generateImages(sd, { ...settings, prompt: 'a dog on a beach' }, { cacheDir, concepts: [{ placeholder: '*', concept: full }] }),
    ).rejects.toThrow(/does not use \*/);
  });
});
