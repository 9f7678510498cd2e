// Broken and odd models (the hostile-input audit's cases): each is refused by `generate` and by
// `models add` alike, with one line that names what is wrong — never an "Unexpected error".
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorAsFloat32, type TensorToWrite, writeSafetensors } from '../../src-main/weights/safetensors.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../src-main/models/tiny-configs.js';
import { fastRandomFill, sdWeights, writeSingleFileCheckpoint } from '../../src-main/weights/random-checkpoint.js';
import { writeTinyDiffusers, writeTinySingleFile } from '../helpers/tiny-checkpoint.js';

const BIN = fileURLToPath(new URL('../../bin/singleinsert.js', import.meta.url));

describe('broken models', { timeout: 180_000 }, () => {
  let root: string;
  let single: string;
  let folder: string;
  let tensors: Record<string, TensorToWrite>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-broken-'));
    single = writeTinySingleFile(join(root, 'tiny.safetensors'));
    folder = writeTinyDiffusers(join(root, 'tiny-diffusers'));
    const file = readSafetensorsHeader(single);
    tensors = Object.fromEntries(
      [...file.tensors].map(([name, e]) => [name, { dtype: 'F32' as const, shape: [...e.shape], data: readTensorAsFloat32(file, name) }]),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Both commands on one model: each must fail with exit 1 and a line matching `why`. */
  function refusedByBoth(model: string, why: RegExp) {
    const data = join(root, 'lib');
    const generate = spawnSync(process.execPath, [BIN, 'generate', '--model', model, '--prompt', 'a dog', '--steps', '1', '--data-dir', data], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const add = spawnSync(process.execPath, [BIN, 'models', 'add', model, '--data-dir', data], { encoding: 'utf8', timeout: 60_000 });
    for (const r of [generate, add]) {
      expect(r.status, r.stderr).toBe(1);
      // one line says why (a drawing may have printed its steps before it)
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(why);
      expect(r.stderr).not.toMatch(/Unexpected error| {4}at /);
    }
  }

  const variant = (name: string, change: (t: Record<string, TensorToWrite>) => void) => {
    const copy = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { ...v, shape: [...v.shape] }]));
    change(copy);
    const path = join(root, `${name}.safetensors`);
    writeSafetensors(path, copy);
    return path;
  };
  const CONV_IN = 'model.diffusion_model.input_blocks.0.0.weight';
  const TOKEN_EMBEDDING = 'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight';

  it('single files: no text encoder, a 1-D token embedding, a permuted or scalar conv_in', () => {
    refusedByBoth(
      variant('no-text', (t) => {
        for (const k of Object.keys(t)) if (k.startsWith('cond_stage_model.') && k.includes('.encoder.layers.')) delete t[k];
      }),
      /no-text\.safetensors has no text encoder layers .*not a complete SD 1\.x checkpoint/,
    );
    refusedByBoth(
      variant('flat-embedding', (t) => {
        t[TOKEN_EMBEDDING]!.shape = [t[TOKEN_EMBEDDING]!.shape.reduce((a, b) => a * b, 1)];
      }),
      /token_embedding\.weight has shape \[\d+\], not a token embedding's \[vocabulary, width\]/,
    );
    refusedByBoth(
      variant('permuted-conv-in', (t) => {
        t[CONV_IN]!.shape = [...t[CONV_IN]!.shape].reverse();
      }),
      /its UNet does not fit the architecture \(.*conv_in\.weight has shape \[3,3,4,32\], the model expects \[32,3,3,3\]\)/,
    );
    refusedByBoth(
      variant('scalar-conv-in', (t) => {
        t[CONV_IN] = { dtype: 'F32', shape: [], data: new Float32Array(1) };
      }),
      /input_blocks\.0\.0\.weight has shape \[\], not a convolution's \[out, in, k, k\]/,
    );
  });

  it('a single file whose text encoder is of an odd width (one that does not split into the heads SD 1.x uses)', () => {
    // written with 8 heads, read as a single file (no config) with SD 1.x's 12: 40 does not split
    const cfg = { unet: { ...TINY_UNET, crossAttentionDim: 40 }, text: { ...TINY_CLIP_TEXT, hiddenSize: 40, heads: 8 }, vae: TINY_VAE };
    const path = writeSingleFileCheckpoint(join(root, 'text-40.safetensors'), cfg, sdWeights(cfg, fastRandomFill(1)));
    refusedByBoth(
      path,
      /text-40\.safetensors: a single file does not record attention head or norm group counts, and SD 1\.x's do not fit this model \(text encoder config: hiddenSize = 40 is not a multiple of heads = 12\)\. Convert it to a diffusers folder/,
    );
  });

  it('weights holding NaN are refused when added and when drawn, not turned into images', () => {
    refusedByBoth(
      variant('nan', (t) => {
        const data = Float32Array.from(t[CONV_IN]!.data as Float32Array);
        data[3] = Number.NaN;
        t[CONV_IN] = { ...t[CONV_IN]!, data };
      }),
      /NaN or infinite values/,
    );
  });

  it('diffusers folders: a config that is null, lacks a field, holds a string or an absurd size; a broken tokenizer', () => {
    const broken = (name: string, file: string, content: string) => {
      const dir = join(root, name);
      cpSync(folder, dir, { recursive: true });
      writeFileSync(join(dir, file), content);
      return dir;
    };
    refusedByBoth(broken('null-config', 'unet/config.json', 'null'), /unet\/config\.json is not a JSON object of settings/);
    const config = (change: (c: Record<string, unknown>) => void) => {
      const c = {
        sample_size: 8,
        in_channels: 4,
        out_channels: 4,
        block_out_channels: [32, 64],
        layers_per_block: 1,
        down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
        cross_attention_dim: 48,
        attention_head_dim: 8,
        norm_num_groups: 32,
      } as Record<string, unknown>;
      change(c);
      return JSON.stringify(c);
    };
    refusedByBoth(
      broken(
        'no-field',
        'unet/config.json',
        config((c) => delete c.layers_per_block),
      ),
      /unet\/config\.json: "layers_per_block" is missing; expected a number/,
    );
    refusedByBoth(
      broken(
        'string-field',
        'unet/config.json',
        config((c) => (c.cross_attention_dim = '48')),
      ),
      /"cross_attention_dim" is "48"; expected a number/,
    );
    refusedByBoth(
      broken(
        'absurd',
        'unet/config.json',
        config((c) => (c.block_out_channels = [32, 1e9])),
      ),
      /"block_out_channels\.1" is 1000000000; expected at most 4096/,
    );
    refusedByBoth(
      broken(
        'bad-text-width',
        'unet/config.json',
        config((c) => (c.cross_attention_dim = 64)),
      ),
      /UNet attends to 64-wide text but its text encoder is 48 wide/,
    );
    const noMerges = broken('no-merges', 'model_index.json', '{"_class_name": "StableDiffusionPipeline"}');
    rmSync(join(noMerges, 'tokenizer', 'merges.txt'));
    refusedByBoth(noMerges, /No such file: .*tokenizer\/merges\.txt/);
    refusedByBoth(broken('bad-vocab', 'tokenizer/vocab.json', '{"a": '), /tokenizer: the tokenizer's vocab\.json or merges\.txt is unusable \(.*JSON/);
    refusedByBoth(
      broken('empty-vocab', 'tokenizer/vocab.json', '{}'),
      /the tokenizer's vocab\.json or merges\.txt is unusable \(Token <\|startoftext\|> is not in the vocabulary\)/,
    );
  });
});
