// TAESD against diffusers' AutoencoderTiny on random weights (scripts/reference/make_goldens.py, section 13), opened
// as users install it: the diffusers folder, and the original single files A1111 and ComfyUI read (the decoder's
// indices shifted by its leading clamp). The GPU project runs this file again on WebGPU.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { weightsFrom } from '../../../src-main/models/params.js';
import { SD15_TAESD, taesdDecode, taesdEncode } from '../../../src-main/models/taesd.js';
import { openTaesd, type TaesdModel } from '../../../src-main/weights/taesd-files.js';
import { expectCloseToGolden, golden, goldenShape as shapeOf, REFERENCE_DIR, runGraph } from '../../helpers/reference-goldens.js';
import { testProvider } from '../../helpers/test-provider.js';

const FOLDER = join(REFERENCE_DIR, 'tiny-taesd');

describe('TAESD against diffusers’ AutoencoderTiny', { timeout: 60_000 }, () => {
  let root: string;
  let original: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-taesd-'));
    // the two original files alone, as in ComfyUI's models/vae_approx
    original = join(root, 'vae_approx');
    mkdirSync(original);
    for (const f of ['taesd_decoder.safetensors', 'taesd_encoder.safetensors']) copyFileSync(join(FOLDER, f), join(original, f));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const decode = async (model: TaesdModel) => {
    const g = new Graph('taesd-decode');
    g.output(taesdDecode(weightsFrom(g, model.weights), model.config, g.input('latents', 'float32', shapeOf('taesd.latents'))), 'image');
    return (await runGraph(g, { latents: golden('taesd.latents') }, { cacheDir: join(root, 'cache'), provider: testProvider() })).image!;
  };
  const encode = async (model: TaesdModel) => {
    const g = new Graph('taesd-encode');
    g.output(taesdEncode(weightsFrom(g, model.weights), model.config, g.input('image', 'float32', shapeOf('taesd.image'))), 'latents');
    return (await runGraph(g, { image: golden('taesd.image') }, { cacheDir: join(root, 'cache'), provider: testProvider() })).latents!;
  };

  it('the diffusers folder: decoder and encoder', async () => {
    const model = openTaesd(FOLDER);
    expect(model).toMatchObject({ hasDecoder: true, hasEncoder: true });
    expect(model.config).toEqual({ ...SD15_TAESD, encoderBlockOutChannels: [8, 8, 8, 8], decoderBlockOutChannels: [8, 8, 8, 8] });
    expectCloseToGolden(await decode(model), 'taesd.decoded');
    expectCloseToGolden(await encode(model), 'taesd.encoded');
  });

  it('the original single files (taesd_decoder / taesd_encoder.safetensors), without a config', async () => {
    const model = openTaesd(original);
    expect(model).toMatchObject({ hasDecoder: true, hasEncoder: true });
    expectCloseToGolden(await decode(model), 'taesd.decoded');
    expectCloseToGolden(await encode(model), 'taesd.encoded');
    // the decoder file alone decodes, and says it cannot encode
    const decoderOnly = openTaesd(join(original, 'taesd_decoder.safetensors'));
    expect(decoderOnly).toMatchObject({ hasDecoder: true, hasEncoder: false });
    expectCloseToGolden(await decode(decoderOnly), 'taesd.decoded');
  });

  it('refuses a TAESD for other latents by name, and a config TAESD cannot build, naming the field', () => {
    const xl = join(root, 'taesdxl_decoder.safetensors');
    copyFileSync(join(FOLDER, 'taesd_decoder.safetensors'), xl);
    expect(() => openTaesd(xl)).toThrow(/tiny autoencoder for SDXL's latents; SD 1\.x needs taesd/);
    const g = new Graph('bad');
    const model = openTaesd(FOLDER);
    expect(() =>
      taesdDecode(weightsFrom(g, model.weights), { ...model.config, decoderBlockOutChannels: [8, 16, 8, 8] }, g.input('z', 'float32', [1, 4, 2, 2])),
    ).toThrow(/TAESD config: decoderBlockOutChannels \[8,16,8,8\] differ/);
  });
});
