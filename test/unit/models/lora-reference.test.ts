// LoRAs from other tools against PyTorch (scripts/reference/make_goldens.py, section 11): a random LoRA over every
// linear and convolutional layer of the tiny SD 1.x pipeline (attention, proj_in/out, feed-forward, ResNet convs with
// LoCon 3×3 factors, time_emb_proj, samplers, conv_in/out, the time embedding; the text encoder's attention and MLP),
// alpha ≠ rank, written in kohya's and in PEFT's naming, merged into the weights as kohya's and A1111's code merge it.
// Imported as a style concept, drawn as runtime deltas, it must give the merged models' outputs and the same 4-step image.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { Library } from '../../../src-main/library/library.js';
import { clipTextEncoder } from '../../../src-main/models/clip-text.js';
import { frozenLora, type LoraAdapter } from '../../../src-main/models/lora.js';
import { adaptableLayers } from '../../../src-main/models/lora-modules.js';
import { weightsFrom } from '../../../src-main/models/params.js';
import { unet } from '../../../src-main/models/unet.js';
import { vaeDecode } from '../../../src-main/models/vae.js';
import { readConceptFile } from '../../../src-main/pipeline/compose/concept-file.js';
import { denoise } from '../../../src-main/pipeline/compose/denoise.js';
import { sessionLoader } from '../../../src-main/pipeline/compose/sessions.js';
import { importConcept } from '../../../src-main/pipeline/interop/concept-exchange.js';
import { createSampler } from '../../../src-main/schedulers/sampler.js';
import { readSafetensorsHeader } from '../../../src-main/weights/safetensors.js';
import { openStableDiffusion } from '../../../src-main/weights/sd-loader.js';
import type { StableDiffusionModel } from '../../../src-main/weights/sd-model.js';
import { expectCloseToGolden, golden, goldenShape as shapeOf, REFERENCE_DIR, REFERENCE_MODEL, runGraph } from '../../helpers/reference-goldens.js';
import { testProvider } from '../../helpers/test-provider.js';

const FILES = { kohya: 'kohya-locon.safetensors', peft: 'pytorch_lora_weights.safetensors' } as const;

describe('LoRAs over every layer kind against PyTorch (kohya and PEFT naming)', { timeout: 120_000 }, () => {
  let model: StableDiffusionModel;
  let root: string;
  let library: Library;
  const adapters: Partial<Record<keyof typeof FILES, LoraAdapter>> = {};
  const notes: Partial<Record<keyof typeof FILES, string[]>> = {};
  const run = (g: Graph, feeds: Record<string, Float32Array | BigInt64Array>) =>
    runGraph(g, feeds, { cacheDir: join(root, 'cache'), provider: testProvider() });

  beforeAll(async () => {
    model = openStableDiffusion(REFERENCE_MODEL);
    root = mkdtempSync(join(tmpdir(), 'si-lora-ref-'));
    library = Library.open(join(root, 'library'));
    const layers = adaptableLayers(model.unet.config, model.textEncoder.config);
    for (const naming of Object.keys(FILES) as (keyof typeof FILES)[]) {
      const imported = await importConcept(library, [join(REFERENCE_DIR, 'tiny-lora', FILES[naming])], { classWord: '', name: naming, layers });
      notes[naming] = imported.notes;
      adapters[naming] = frozenLora(naming, readConceptFile(library.concepts.filePath(imported.conceptId), naming).lora);
    }
  });
  afterAll(() => {
    library.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each(Object.keys(FILES) as (keyof typeof FILES)[])('%s: every layer of the file is kept, none left out', (naming) => {
    // the file: down, up and alpha per layer (kohya), A and B (PEFT); the model: every linear and conv layer
    const file = readSafetensorsHeader(join(REFERENCE_DIR, 'tiny-lora', FILES[naming]));
    const layers = adaptableLayers(model.unet.config, model.textEncoder.config);
    expect(file.tensors.size).toBe(layers.length * (naming === 'kohya' ? 3 : 2));
    const convolutions = layers.filter((l) => l.kernel > 0).length;
    expect(convolutions).toBeGreaterThan(10);
    expect(notes[naming]).toEqual([
      `${FILES[naming]}: ${layers.length} layers read (${layers.length - convolutions} linear, ${convolutions} convolutional), rank up to 4, alpha folded in.`,
    ]);
  });

  it.each(Object.keys(FILES) as (keyof typeof FILES)[])('%s: the text encoder (attention and MLP) with the LoRA', async (naming) => {
    const g = new Graph('text-lora');
    const inputIds = g.input('ids', 'int64', shapeOf('text.ids'));
    g.output(clipTextEncoder(weightsFrom(g, model.textEncoder.source, { adapters: [adapters[naming]!] }), model.textEncoder.config, { inputIds }), 'hidden');
    const ids = BigInt64Array.from(golden('text.ids'), (v) => BigInt(v));
    expectCloseToGolden((await run(g, { ids })).hidden!, 'lora.text_hidden');
  });

  it.each(Object.keys(FILES) as (keyof typeof FILES)[])('%s: the UNet (every linear and conv layer) with the LoRA', async (naming) => {
    const g = new Graph('unet-lora');
    g.output(
      unet(weightsFrom(g, model.unet.source, { prefix: 'unet.', adapters: [adapters[naming]!] }), model.unet.config, {
        sample: g.input('sample', 'float32', shapeOf('unet.sample')),
        timestep: g.input('t', 'float32', shapeOf('unet.timestep')),
        encoderHiddenStates: g.input('context', 'float32', shapeOf('text.hidden')),
      }),
      'eps',
    );
    expectCloseToGolden((await run(g, { sample: golden('unet.sample'), t: golden('unet.timestep'), context: golden('text.hidden') })).eps!, 'lora.unet_eps');
  });

  it('kohya: a 4-step DDIM image with guidance, through the app’s sampling loop and the VAE', async () => {
    const sampler = createSampler('ddim', 4);
    const { latents } = await denoise(
      model,
      sampler,
      {
        hidden: golden('lora.text_hidden'), // row 0 the unconditional prompt, row 1 the prompt
        latents: golden('sample.noise').map((v) => v * sampler.initNoiseSigma),
        count: 1,
        latentShape: shapeOf('sample.noise').slice(1) as [number, number, number],
        guidance: 7.5,
        adapters: [adapters.kohya!],
        regions: null,
      },
      sessionLoader({ provider: testProvider(), cacheDir: join(root, 'cache') }),
      'float32',
    );
    const all = golden('lora.x');
    const last = all.slice(all.length - latents.length);
    const scale = Math.max(...last.map(Math.abs));
    latents.forEach((v, i) => expect(Math.abs(v - last[i]!), `latent ${i}`).toBeLessThanOrEqual(1e-4 * scale));
    const g = new Graph('vae-lora');
    g.output(
      vaeDecode(weightsFrom(g, model.vae.source, { prefix: 'vae.' }), model.vae.config, g.input('latents', 'float32', shapeOf('sample.noise'))),
      'image',
    );
    expectCloseToGolden((await run(g, { latents })).image!, 'lora.image');
  });
});
