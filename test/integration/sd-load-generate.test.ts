import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../src-main/graph/graph.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { sessionForGraph } from '../../src-main/graph/runtime/session.js';
import { clipTextEncoder } from '../../src-main/models/clip-text.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { unet } from '../../src-main/models/unet.js';
import { vaeDecode, vaeEncode } from '../../src-main/models/vae.js';
import { defaultSettings, generateImages } from '../../src-main/pipeline/compose/generate.js';
import { readPngText } from '../../src-main/pipeline/sample/png-metadata.js';
import { unetKeyToLdm, vaeKeyToLdm } from '../../src-main/weights/ldm-keys.js';
import { openStableDiffusion } from '../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../src-main/weights/sd-model.js';
import { SD15_UNET } from '../../src-main/models/unet.js';
import { SD15_VAE } from '../../src-main/models/vae.js';
import { writeSafetensors } from '../../src-main/weights/safetensors.js';
import { writeTinyDiffusers, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Library } from '../../src-main/library/library.js';
import { tmpdir } from 'node:os';
import { tmpDir } from '../helpers/tmp.js';

/** Runs text encoder, UNet and VAE of a model on fixed inputs. */
let cacheRoot = '';
async function runAll(model: StableDiffusionModel) {
  const g = new Graph('all');
  const ids = g.input('ids', 'int64', [1, 77]);
  const hidden = clipTextEncoder(weightsFrom(g, model.textEncoder.source), model.textEncoder.config, { inputIds: ids });
  g.output(hidden, 'hidden');
  const sample = g.input('sample', 'float32', [1, 4, 8, 8]);
  g.output(
    unet(weightsFrom(g, model.unet.source, { prefix: 'unet.' }), model.unet.config, {
      sample,
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: hidden,
    }),
    'eps',
  );
  const image = vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.' }), model.vae.config, sample);
  g.output(image, 'image');
  g.output(vaeEncode(weightsFrom(g, model.vae.source, { prefix: 'vae.' }), model.vae.config, image), 'latents');
  const session = await sessionForGraph(g, { cacheDir: cacheRoot });
  const r = new SeededRandom(9);
  const out = await session.run({
    ids: { dtype: 'int64', shape: [1, 77], data: BigInt64Array.from(model.tokenizer.encode('a photo of a dog').ids.map(BigInt)) },
    sample: { dtype: 'float32', shape: [1, 4, 8, 8], data: r.normalArray(256) },
    t: { dtype: 'float32', shape: [1], data: Float32Array.of(500) },
  });
  await session.release();
  return out;
}

describe('Stable Diffusion 1.x loading and generation (tiny model, both file formats)', () => {
  let root: string;
  let diffusers: string;
  let single: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-sd-'));
    diffusers = writeTinyDiffusers(join(root, 'tiny-diffusers'));
    single = writeTinySingleFile(join(root, 'tiny.safetensors'));
    cacheRoot = join(root, 'cache');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps diffusers names to the LDM keys real SD 1.5 single files use', () => {
    expect(unetKeyToLdm('down_blocks.0.resnets.0.norm1.weight', SD15_UNET)).toBe('model.diffusion_model.input_blocks.1.0.in_layers.0.weight');
    expect(unetKeyToLdm('down_blocks.1.attentions.1.transformer_blocks.0.attn2.to_k.weight', SD15_UNET)).toBe(
      'model.diffusion_model.input_blocks.5.1.transformer_blocks.0.attn2.to_k.weight',
    );
    expect(unetKeyToLdm('down_blocks.2.downsamplers.0.conv.weight', SD15_UNET)).toBe('model.diffusion_model.input_blocks.9.0.op.weight');
    expect(unetKeyToLdm('mid_block.attentions.0.proj_in.weight', SD15_UNET)).toBe('model.diffusion_model.middle_block.1.proj_in.weight');
    expect(unetKeyToLdm('up_blocks.0.upsamplers.0.conv.weight', SD15_UNET)).toBe('model.diffusion_model.output_blocks.2.1.conv.weight');
    expect(unetKeyToLdm('up_blocks.1.upsamplers.0.conv.weight', SD15_UNET)).toBe('model.diffusion_model.output_blocks.5.2.conv.weight');
    expect(unetKeyToLdm('up_blocks.3.resnets.2.conv_shortcut.weight', SD15_UNET)).toBe('model.diffusion_model.output_blocks.11.0.skip_connection.weight');
    expect(unetKeyToLdm('time_embedding.linear_2.bias', SD15_UNET)).toBe('model.diffusion_model.time_embed.2.bias');
    expect(vaeKeyToLdm('decoder.up_blocks.0.resnets.0.conv1.weight', SD15_VAE)).toBe('first_stage_model.decoder.up.3.block.0.conv1.weight');
    expect(vaeKeyToLdm('encoder.mid_block.attentions.0.to_q.weight', SD15_VAE)).toBe('first_stage_model.encoder.mid.attn_1.q.weight');
    expect(vaeKeyToLdm('encoder.down_blocks.1.resnets.0.conv_shortcut.bias', SD15_VAE)).toBe('first_stage_model.encoder.down.1.block.0.nin_shortcut.bias');
  });

  it('a diffusers folder and a single file of the same weights give identical outputs', async () => {
    const a = openStableDiffusion(diffusers);
    const b = openStableDiffusion(single);
    expect(a.format).toBe('diffusers');
    expect(b.format).toBe('single-file');
    // a single file does not say its native resolution: SD 1.x's 64 latents (512 px) is assumed
    expect({ ...b.unet.config, sampleSize: 8 }).toEqual(a.unet.config);
    expect(b.textEncoder.config).toEqual(a.textEncoder.config);
    expect(b.vae.config).toEqual(a.vae.config);
    const [oa, ob] = [await runAll(a), await runAll(b)];
    for (const key of ['hidden', 'eps', 'image', 'latents']) {
      expect(oa[key]!.shape).toEqual(ob[key]!.shape);
      expect(Array.from(ob[key]!.data as Float32Array)).toEqual(Array.from(oa[key]!.data as Float32Array));
    }
    expect(oa.hidden!.shape).toEqual([1, 77, 48]);
    expect(oa.eps!.shape).toEqual([1, 4, 8, 8]);
    expect(oa.image!.shape).toEqual([1, 3, 16, 16]);
    expect(oa.latents!.shape).toEqual([1, 4, 8, 8]);
    // deterministic
    expect(Array.from((await runAll(a)).eps!.data as Float32Array)).toEqual(Array.from(oa.eps!.data as Float32Array));
  });

  it('generates valid PNGs with their settings inside, reproducibly per seed', async () => {
    const model = openStableDiffusion(diffusers);
    const settings = defaultSettings(model, { prompt: 'a photo of an astronaut riding a horse', steps: 4, seed: 42, count: 2, sampler: 'dpmpp2m' });
    const progress: number[] = [];
    const { images } = await generateImages(model, settings, { cacheDir: cacheRoot, onProgress: (p) => progress.push(p.step) });
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(images.map((i) => i.seed)).toEqual([42, 43]);
    for (const image of images) {
      const meta = await sharp(image.png).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 16, height: 16, channels: 3 });
      const text = readPngText(image.png);
      expect(text.parameters).toMatch(/^a photo of an astronaut riding a horse\nNegative prompt: \nSteps: 4, Sampler: dpmpp2m, CFG scale: 7.5, Seed: 4[23]/);
      expect(JSON.parse(text.singleinsert!)).toMatchObject({ prompt: settings.prompt, steps: 4 });
    }
    expect(images[0]!.png.equals(images[1]!.png)).toBe(false);
    const again = await generateImages(model, { ...settings, count: 1 }, { cacheDir: cacheRoot });
    expect(again.images[0]!.png.equals(images[0]!.png)).toBe(true);
  });

  it.each(['euler_a', 'dpmpp_sde'] as const)(
    '%s adds each image its own seeded step noise: drawn alone from seed + i, image i comes out the same',
    async (sampler) => {
      const model = openStableDiffusion(diffusers);
      const settings = defaultSettings(model, { prompt: 'a photo of an astronaut riding a horse', steps: 4, seed: 42, count: 2, sampler });
      const pixels = (png: Buffer) => sharp(png).raw().toBuffer();
      const { images } = await generateImages(model, settings, { cacheDir: cacheRoot });
      expect(readPngText(images[0]!.png).parameters).toMatch(new RegExp(`Steps: 4, Sampler: ${sampler}, CFG scale: 7\\.5, Seed: 42`));
      const second = await generateImages(model, { ...settings, seed: 43, count: 1 }, { cacheDir: cacheRoot });
      expect((await pixels(second.images[0]!.png)).equals(await pixels(images[1]!.png))).toBe(true);
      const again = await generateImages(model, { ...settings, count: 1 }, { cacheDir: cacheRoot });
      expect(again.images[0]!.png.equals(images[0]!.png)).toBe(true);
      // the noise is what makes it ancestral: plain Euler from the same start draws something else
      const euler = await generateImages(model, { ...settings, count: 1, sampler: 'euler' }, { cacheDir: cacheRoot });
      expect((await pixels(euler.images[0]!.png)).equals(await pixels(images[0]!.png))).toBe(false);
    },
  );

  it('builds and runs the float16 graphs GPU providers get', async () => {
    const model = openStableDiffusion(single);
    const settings = defaultSettings(model, { prompt: 'a dog', steps: 2, seed: 1, width: 16, height: 16 });
    const half = await generateImages(model, settings, { cacheDir: cacheRoot, dtype: 'float16' });
    const full = await generateImages(model, settings, { cacheDir: cacheRoot });
    const pixels = async (png: Buffer) => new Uint8Array(await sharp(png).raw().toBuffer());
    const [a, b] = [await pixels(half.images[0]!.png), await pixels(full.images[0]!.png)];
    const meanDiff = a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(meanDiff).toBeLessThan(3); // out of 255
  });

  it('`singleinsert generate` runs end to end: PNG files, progress, library rows', () => {
    const dataDir = join(root, 'library');
    const out = join(root, 'out');
    const bin = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'generate',
        '--model',
        single,
        '--prompt',
        'a photo of a dog',
        '--steps',
        '3',
        '--seed',
        '7',
        '--count',
        '2',
        '--width',
        '16',
        '--height',
        '16',
        '--sampler',
        'euler',
        '--out',
        out,
        '--data-dir',
        dataDir,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const files = r.stdout.trim().split('\n');
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/gen_[0-9a-f]{12}-seed7\.png$/);
    expect(r.stderr).toMatch(/step 1\/3 · ETA \d+ s\nstep 2\/3/);
    expect(readPngText(readFileSync(files[1]!)).parameters).toMatch(/Seed: 8, Size: 16x16/);
    const library = Library.open(dataDir);
    expect(library.generations.list().map((g) => g.prompt)).toEqual(['a photo of a dog', 'a photo of a dog']);
    library.close();
    // without --out the images stay in the library only: the store's file is printed, nothing lands in the current folder
    const cwd = mkdtempSync(join(tmpdir(), 'si-cwd-'));
    const kept = spawnSync(
      process.execPath,
      [bin, 'generate', '--model', single, '--prompt', 'a cat', '--steps', '1', '--width', '16', '--height', '16', '--data-dir', dataDir],
      {
        encoding: 'utf8',
        cwd,
      },
    );
    expect(kept.status, kept.stderr).toBe(0);
    expect(kept.stdout.trim().startsWith(join(dataDir, 'store'))).toBe(true);
    expect(kept.stderr).toMatch(/Saved 1 image\(s\) in the library \(gen_\w+\); --out <folder> writes copies\./);
    expect(readdirSync(cwd)).toEqual([]);
    rmSync(cwd, { recursive: true });
    const bad = spawnSync(process.execPath, [bin, 'generate', '--model', single, '--prompt', 'x', '--steps', 'many', '--data-dir', dataDir], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--steps must be a whole number/);
  });

  it('refuses pickles, other families and broken files with clear messages', () => {
    const dir = tmpDir();
    const ckpt = join(dir, 'model.ckpt');
    writeFileSync(ckpt, Buffer.from([0x80, 0x02, 0x7d]));
    expect(() => openStableDiffusion(ckpt)).toThrow(/pickle checkpoint, which can run arbitrary code/);
    const disguised = join(dir, 'model.safetensors');
    writeFileSync(disguised, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64)]));
    expect(() => openStableDiffusion(disguised)).toThrow(/pickle checkpoint/);
    const sdxl = join(dir, 'sdxl.safetensors');
    writeSafetensors(sdxl, {
      'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
    });
    expect(() => openStableDiffusion(sdxl)).toThrow(/Stable Diffusion XL.*works with Stable Diffusion 1\.x/);
    const sd2 = join(dir, 'sd2.safetensors');
    writeSafetensors(sd2, { 'cond_stage_model.model.token_embedding.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } });
    expect(() => openStableDiffusion(sd2)).toThrow(/Stable Diffusion 2\.x/);
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, readFileSync(single).subarray(0, 5000));
    expect(() => openStableDiffusion(truncated)).toThrow(/truncated/);
  });

  it('names a missing or mis-shaped weight', () => {
    const model = openStableDiffusion(diffusers);
    const g = new Graph();
    const p = weightsFrom(g, model.unet.source, { prefix: 'unet.' });
    expect(() => g.scope('unet', () => p.weight('conv_in.weight', [64, 4, 3, 3]))).toThrow(
      /conv_in.weight has shape \[32,4,3,3\], the model expects \[64,4,3,3\]/,
    );
    expect(() => g.scope('unet', () => p.weight('not_a_layer.weight', [1]))).toThrow(/has no weight not_a_layer.weight/);
  });
});
