// Guidance 1 leaves the unconditional half of the batch out (one UNet batch, not two): the image must be the one
// the guided path draws at guidance 1 (ε_u + 1·(ε_c − ε_u) = ε_c), with concepts and regions too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/compose/generate.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { writeRandomConcept } from '../helpers/random-concept.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('guidance 1 without the unconditional half (tiny SD)', { timeout: 120_000 }, () => {
  let root: string;
  let sd: StableDiffusionModel;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-guidance1-'));
    sd = openStableDiffusion(writeTinySingleFile(join(root, 'tiny.safetensors')));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(['ddim', 'unipc', 'lcm'] as const)('%s: the same image as the guided path, a concept in a region included', async (sampler) => {
    const dog = readConceptFile(writeRandomConcept(join(root, `dog-${sampler}.safetensors`), 1, 'dog'), 'dog');
    const draw = async (guidance: number) => {
      const settings = defaultSettings(sd, { prompt: 'a photo of * dog', steps: 4, seed: 3, sampler, guidance, width: 64, height: 64, count: 2 });
      const { images } = await generateImages(sd, settings, {
        concepts: [{ placeholder: '*', concept: dog }],
        regions: [{ placeholder: '*', box: [0, 0, 32, 64] }],
        cacheDir: join(root, 'cache'),
      });
      return Promise.all(images.map((i) => sharp(i.png).raw().toBuffer()));
    };
    // just above 1 the guided path runs (both halves); at 1 the prompt's half alone
    const [guided, alone] = [await draw(1 + 1e-7), await draw(1)];
    for (const [i, a] of alone.entries()) {
      const b = guided[i]!;
      const worst = a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j]!)), 0);
      expect(worst, `image ${i}`).toBeLessThanOrEqual(1);
    }
    // and guidance matters at all: 3 draws another image
    const strong = await draw(3);
    expect(strong[0]!.equals(alone[0]!)).toBe(false);
  });
});
