// The diffusers → LDM key map and the single-file shape inference against the real SD 1.5 single-file
// layout: test/fixtures/reference/sd15-single-file-keys.json, written by scripts/reference/sd15_single_file_keys.py
// from CompVis' original modules (names and shapes, no weights). A map written by the app and read back by the
// app could not catch a wrong name; this list was not written by the app.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { numel, type Shape } from '../../../src-main/graph/shape.js';
import { clipTextEncoder, SD15_CLIP_TEXT } from '../../../src-main/models/clip-text.js';
import { type WeightSource, weightsFrom } from '../../../src-main/models/params.js';
import { SD15_UNET, unet } from '../../../src-main/models/unet.js';
import { SD15_VAE, vaeDecode, vaeLatentDistribution } from '../../../src-main/models/vae.js';
import { checkArchitecture } from '../../../src-main/weights/check-architecture.js';
import { textKeyToLdm, unetKeyToLdm, vaeKeyToLdm } from '../../../src-main/weights/ldm-keys.js';
import type { SafetensorsFile } from '../../../src-main/weights/safetensors.js';
import { singleFileModel } from '../../../src-main/weights/single-file.js';
import { REFERENCE_DIR } from '../../helpers/reference-goldens.js';

const REAL: ReadonlyMap<string, number[]> = new Map(
  Object.entries((JSON.parse(readFileSync(join(REFERENCE_DIR, 'sd15-single-file-keys.json'), 'utf8')) as { keys: Record<string, number[]> }).keys),
);
/** Buffers a real file holds that are not weights. */
const NOT_WEIGHTS = new Set(['cond_stage_model.transformer.text_model.embeddings.position_ids']);

/** A v1-5-pruned.safetensors header: the real names and shapes, no data to read. */
const realHeader = (): SafetensorsFile => ({
  path: 'v1-5-pruned.safetensors',
  size: 0,
  metadata: {},
  tensors: new Map([...REAL].map(([name, shape]) => [name, { name, dtype: 'F32' as const, shape, offset: 0, length: 4 * numel(shape) }])),
});

/** Every weight a model asks for (diffusers name → shape), with no values. */
function askedFor(build: (g: Graph, source: WeightSource) => void): Map<string, readonly number[]> {
  const asked = new Map<string, readonly number[]>();
  const source: WeightSource = {
    label: 'names',
    shapeOf: (_name, expected) => expected,
    load: (name, _dtype, shape: Shape) => {
      asked.set(name, shape);
      return { file: '', offset: 0, length: 4 * numel(shape) };
    },
  };
  build(new Graph('names'), source);
  return asked;
}

const squeezed = (s: readonly number[]) => s.filter((d) => d !== 1).join('×');

describe('single-file SD 1.5 layout (real key names and shapes)', () => {
  it('reads SD 1.5’s configs from the real shapes, and the architecture check accepts them', () => {
    const model = singleFileModel(realHeader());
    expect(model.unet.config).toEqual(SD15_UNET);
    expect(model.textEncoder.config).toEqual(SD15_CLIP_TEXT);
    expect(model.vae.config).toEqual(SD15_VAE);
    expect(() => checkArchitecture(model)).not.toThrow();
  });

  it('maps every weight the models ask for to a real key of the same shape, and leaves no real weight unused', () => {
    const used = new Set<string>();
    const check = (part: string, asked: Map<string, readonly number[]>, toLdm: (name: string) => readonly string[]) => {
      const problems: string[] = [];
      for (const [name, shape] of asked) {
        const key = toLdm(name).find((k) => REAL.has(k));
        if (!key) problems.push(`${part} ${name} → ${toLdm(name).join(' | ')}: no such key`);
        else if (squeezed(REAL.get(key)!) !== squeezed(shape)) problems.push(`${part} ${name} → ${key}: [${REAL.get(key)}] vs [${shape}]`);
        else used.add(key);
      }
      expect(problems).toEqual([]);
    };
    const s = SD15_UNET;
    check(
      'UNet',
      askedFor((g, src) =>
        unet(weightsFrom(g, src, { prefix: 'unet.' }), s, {
          sample: g.input('x', 'float32', [1, 4, 64, 64]),
          timestep: g.input('t', 'float32', [1]),
          encoderHiddenStates: g.input('c', 'float32', [1, 77, 768]),
        }),
      ),
      (n) => [unetKeyToLdm(n, s) ?? '(unmapped)'],
    );
    check(
      'text',
      askedFor((g, src) => clipTextEncoder(weightsFrom(g, src), SD15_CLIP_TEXT, { inputIds: g.input('ids', 'int64', [1, 77]) })),
      textKeyToLdm,
    );
    check(
      'VAE',
      askedFor((g, src) => {
        vaeDecode(weightsFrom(g, src, { prefix: 'vae.' }), SD15_VAE, g.input('z', 'float32', [1, 4, 8, 8]));
        vaeLatentDistribution(weightsFrom(g, src, { prefix: 'vae.' }), SD15_VAE, g.input('img', 'float32', [1, 3, 64, 64]));
      }),
      (n) => [vaeKeyToLdm(n, SD15_VAE) ?? '(unmapped)'],
    );
    expect([...REAL.keys()].filter((k) => !used.has(k) && !NOT_WEIGHTS.has(k))).toEqual([]);
    expect(used.size).toBe(REAL.size - NOT_WEIGHTS.size);
  });
});
