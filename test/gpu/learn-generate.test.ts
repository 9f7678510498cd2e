// A tiny learn (Stage I + Stage II, one step each) and a tiny generate with its concept, through the CLI,
// on WebGPU: every session on the device provider (setup.ts forbids the CPU fallback and checks node
// placement), previews included.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { fixtureImage } from '../helpers/fixtures.js';
import { writeTinyClipVision, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

describe('learn and generate on WebGPU, through the CLI (tiny SD)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-gpu-learn-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('mask → learn 1 + 1 steps with a test prompt → generate with the concept', async () => {
    const dataDir = join(root, 'library');
    const model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    const encoder = writeTinyClipVision(join(root, 'clip-vision'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const cli = (args: string[]) => runCli([...args, '--data-dir', dataDir], io, {});
    expect(await cli(['import', fixtureImage('dog_00.jpg')])).toBe(0);
    const imageId = out.at(-1)!.split('\t')[0]!;
    expect(await cli(['mask', imageId, '--class', 'dog', '--point', '390,390'])).toBe(0);
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
      '1',
      '--steps2',
      '1',
      '--batch',
      '1',
      '--latent',
      '8',
    ];
    expect(await cli([...learn, '--preview', 'a photo of * dog', '--preview-steps', '2', '--provider', 'webgpu', '--name', 'Rex']), err.join('\n')).toBe(0);
    expect(err.filter((l) => /^Stage I+ · step \d\/2/.test(l))).toHaveLength(2);
    expect(err.join('\n')).not.toMatch(/running on the CPU/);
    const conceptId = out.at(-1)!.split('\t')[0]!;
    const library = Library.open(dataDir);
    const run = library.runs.list()[0]!;
    library.close();
    expect(run.log.join('\n')).toMatch(/Stage I memory plan: checkpointed/);
    // float16 where the adapter computes in it (lavapipe does), with the memory its driver reports
    expect(run.log.join('\n')).toMatch(/^Computes in float16 on .+, with normalisation, softmax and sums in float32;/m);
    expect(run.log.join('\n')).toMatch(/^Memory for the steps: [\d.]+ GB, (available system memory \(.+ runs on the CPU\)|free memory of .+)\.$/m);
    expect(run.log.join('\n')).toMatch(/^Stage II memory: the device's free memory fell to [\d.]+ GB at the lowest/m);

    const gen = ['generate', '--model', model, '--concept', conceptId, '--prompt', '* dog in the snow', '--steps', '2', '--width', '16', '--height', '16'];
    expect(await cli([...gen, '--provider', 'webgpu', '--out', join(root, 'gen')]), err.join('\n')).toBe(0);
    const png = readFileSync(out.at(-1)!);
    expect((await sharp(png).metadata()).format).toBe('png');
  });
});
