// Concepts to and from other tools: kohya's names for SD 1.5's real layers, and export → import
// round-trips to the same tensors for both formats, through the CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/cli/main.js';
import { SeededRandom } from '../../src-main/graph/random.js';
import { Library } from '../../src-main/library/library.js';
import { SD15_CLIP_TEXT } from '../../src-main/models/clip-text.js';
import { adaptableLayers, adaptedLayers } from '../../src-main/models/lora-modules.js';
import { SD15_UNET } from '../../src-main/models/unet.js';
import { writeConceptFile } from '../../src-main/pipeline/compose/concept-file.js';
import { kohyaName } from '../../src-main/pipeline/interop/lora-naming.js';
import { readSafetensorsHeader, readTensorAsFloat32, writeSafetensors } from '../../src-main/weights/safetensors.js';

describe('concept exchange with A1111, ComfyUI and diffusers', { timeout: 120_000 }, () => {
  let root: string;
  let data: string;
  let conceptId: string;
  const layers = adaptedLayers(SD15_UNET, SD15_CLIP_TEXT);
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'si-exchange-'));
    data = join(root, 'library');
    // a concept with SD 1.5's real layers and random values
    const r = new SeededRandom(4);
    const lora: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const l of layers) {
      lora[`${l.module}.lora_A.weight`] = { shape: [4, l.inDim], data: r.normalArray(4 * l.inDim) };
      lora[`${l.module}.lora_B.weight`] = { shape: [l.outDim, 4], data: r.normalArray(4 * l.outDim) };
    }
    const file = join(root, 'rex.safetensors');
    writeConceptFile(file, r.normalArray(768), lora, { classWord: 'dog', baseModel: 'sd15', loraRank: 4 });
    const library = Library.open(data);
    conceptId = (
      await library.concepts.add({ name: 'Rex the Corgi', classWord: 'dog', imageId: null, maskId: null, baseModelId: null, file: readFileSync(file) })
    ).id;
    library.close();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("names SD 1.5's adapted layers as kohya does", () => {
    const names = layers.map((l) => kohyaName(l.module));
    expect(names.filter((n) => n.startsWith('lora_unet_'))).toHaveLength(128); // 16 transformer blocks × 2 attentions × q, k, v, out
    expect(names.filter((n) => n.startsWith('lora_te_'))).toHaveLength(48); // 12 layers × q, k, v, out
    for (const n of names) expect(n).toMatch(/^lora_(unet|te)_[a-z0-9_]+$/);
    // names as published SD 1.5 LoRAs carry them
    for (const known of [
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q',
      'lora_unet_down_blocks_2_attentions_1_transformer_blocks_0_attn2_to_k',
      'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0',
      'lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_v',
      'lora_te_text_model_encoder_layers_0_self_attn_q_proj',
      'lora_te_text_model_encoder_layers_11_self_attn_out_proj',
    ]) {
      expect(names).toContain(known);
    }
  });

  const tensorsOf = (path: string) => {
    const f = readSafetensorsHeader(path);
    return Object.fromEntries([...f.tensors.keys()].sort().map((k) => [k, Array.from(readTensorAsFloat32(f, k))]));
  };

  it.each(['a1111', 'diffusers'] as const)('exports as %s and imports back to the same tensors', async (format) => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const dir = join(root, `out-${format}`);
    expect(await runCli(['export', conceptId, '--format', format, '--out', dir, '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    const files = [...out];
    expect(files).toHaveLength(2);
    if (format === 'a1111') {
      expect(files[0]).toMatch(/rex-the-corgi\.safetensors$/);
      expect(Object.keys(readSafetensorsHeader(files[0]!).tensors)).toBeDefined();
      expect([...readSafetensorsHeader(files[0]!).tensors.values()][0]).toMatchObject({ name: 'emb_params', shape: [1, 768] });
      expect([...readSafetensorsHeader(files[1]!).tensors.keys()]).toContain('lora_te_text_model_encoder_layers_11_self_attn_out_proj.alpha');
      expect(err.at(-1)).toMatch(/In the prompt: rex-the-corgi dog, <lora:rex-the-corgi-lora:1>/);
    } else {
      expect(files.map((f) => f.split('/').pop())).toEqual(['learned_embeds.safetensors', 'pytorch_lora_weights.safetensors']);
      expect([...readSafetensorsHeader(files[1]!).tensors.keys()]).toContain('text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight');
    }
    out.length = 0;
    expect(await runCli(['import-concept', ...files, '--class', 'dog', '--name', `back from ${format}`, '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    const library = Library.open(data);
    try {
      expect(tensorsOf(library.concepts.filePath(out[0]!))).toEqual(tensorsOf(library.concepts.filePath(conceptId)));
    } finally {
      library.close();
    }
  });

  it('a LoRA alone becomes a style concept (no token, no class word needed), which exports and bundles as a style', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    await runCli(['export', conceptId, '--format', 'a1111', '--out', join(root, 'style-src'), '--data-dir', data], io, {});
    const lora = out[1]!;
    out.length = 0;
    expect(await runCli(['import-concept', lora, '--name', 'Corgi style', '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    const styleId = out[0]!;
    const library = Library.open(data);
    try {
      expect(library.concepts.get(styleId)).toMatchObject({ name: 'Corgi style', kind: 'style', classWord: 'style' });
      const original = tensorsOf(library.concepts.filePath(conceptId));
      const style = tensorsOf(library.concepts.filePath(styleId));
      expect(Object.keys(style)).not.toContain('token_embedding');
      const { token_embedding: _token, ...loraOnly } = original;
      expect(style).toEqual(loraOnly);
    } finally {
      library.close();
    }
    // exported again: the LoRA alone, and a prompt without a token
    out.length = 0;
    expect(await runCli(['export', styleId, '--format', 'a1111', '--out', join(root, 'style-out'), '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/corgi-style-lora\.safetensors$/);
    expect(err.at(-1)).toMatch(/<lora:corgi-style-lora:1> in any prompt/);
    // a bundle keeps it a style
    out.length = 0;
    expect(await runCli(['export', styleId, '--format', 'bundle', '--out', join(root, 'style-out'), '--data-dir', data], io, {})).toBe(0);
    const bundle = out[0]!;
    out.length = 0;
    const other = join(root, 'style-library');
    expect(await runCli(['import-concept', bundle, '--data-dir', other], io, {}), err.join('\n')).toBe(0);
    const b = Library.open(other);
    try {
      expect(b.concepts.get(out[0]!)).toMatchObject({ name: 'Corgi style', kind: 'style' });
    } finally {
      b.close();
    }
  });

  it("folds kohya's alpha/rank scale into the LoRA: alpha 2 of rank 4 halves B", async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => undefined };
    await runCli(['export', conceptId, '--format', 'a1111', '--out', join(root, 'alpha'), '--data-dir', data], io, {});
    const [emb, lora] = out as [string, string];
    const f = readSafetensorsHeader(lora);
    const tensors = Object.fromEntries(
      [...f.tensors.keys()].map((k) => [k, { dtype: 'F32' as const, shape: [...f.tensors.get(k)!.shape], data: readTensorAsFloat32(f, k) }]),
    );
    const name = 'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0';
    tensors[`${name}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(2) };
    writeSafetensors(lora, tensors);
    out.length = 0;
    expect(await runCli(['import-concept', emb, lora, '--class', 'dog', '--data-dir', data], io, {})).toBe(0);
    const library = Library.open(data);
    try {
      const key = 'unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0.lora_B.weight';
      const original = tensorsOf(library.concepts.filePath(conceptId))[key]!;
      const imported = tensorsOf(library.concepts.filePath(out[0]!))[key]!;
      imported.forEach((v, i) => expect(v).toBeCloseTo(original[i]! / 2, 6));
    } finally {
      library.close();
    }
  });

  it('refuses what is not an SD 1.x embedding or LoRA, saying why', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (l: string) => err.push(l) };
    const sd2 = join(root, 'sd2.safetensors');
    writeSafetensors(sd2, { emb_params: { dtype: 'F32', shape: [1, 1024], data: new Float32Array(1024) } });
    expect(await runCli(['import-concept', sd2, '--class', 'dog', '--data-dir', data], io, {})).toBe(1);
    expect(err.at(-1)).toMatch(/1024 wide; SD 1\.x's text is 768/);
    const other = join(root, 'other.safetensors');
    writeSafetensors(other, { a: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }, b: { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    expect(await runCli(['import-concept', other, '--class', 'dog', '--data-dir', data], io, {})).toBe(1);
    expect(err.at(-1)).toMatch(/neither an embedding \(emb_params\) nor a LoRA/);
  });

  it('refuses LoHa, LoKr, DoRA, Tucker LoCon, SDXL and SD 2.x LoRAs and lying shapes by name, storing nothing', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (l: string) => err.push(l) };
    const t = (...shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
    const q = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q';
    const k2 = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k';
    const conv = 'lora_unet_down_blocks_0_resnets_0_conv1';
    const cases: Array<[string, Record<string, ReturnType<typeof t>>, RegExp]> = [
      ['loha', { [`${q}.hada_w1_a`]: t(320, 4), [`${q}.hada_w1_b`]: t(4, 320), [`${q}.alpha`]: t() }, /is a LoHa/],
      ['lokr', { [`${q}.lokr_w1`]: t(16, 16), [`${q}.lokr_w2`]: t(20, 20) }, /is a LoKr/],
      ['dora', { [`${q}.lora_down.weight`]: t(4, 320), [`${q}.lora_up.weight`]: t(320, 4), [`${q}.dora_scale`]: t(1, 320) }, /is a DoRA/],
      [
        'tucker',
        { [`${conv}.lora_down.weight`]: t(4, 320, 1, 1), [`${conv}.lora_mid.weight`]: t(4, 4, 3, 3), [`${conv}.lora_up.weight`]: t(320, 4, 1, 1) },
        /Tucker/,
      ],
      [
        'sdxl',
        {
          'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight': t(4, 768),
          'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight': t(768, 4),
        },
        /for SDXL/,
      ],
      ['sd2', { [`${k2}.lora_down.weight`]: t(4, 1024), [`${k2}.lora_up.weight`]: t(320, 4) }, /seems made for SD 2\.x/],
      [
        'lying',
        { [`${conv}.lora_down.weight`]: t(4, 320, 5, 5), [`${conv}.lora_up.weight`]: t(320, 4, 1, 1) },
        /needs \[\d+, 320, 3, 3\] and \[320, \d+, 1, 1\]/,
      ],
      ['half', { [`${q}.lora_down.weight`]: t(4, 320) }, /only one of its two factors/],
    ];
    const library = Library.open(data);
    const before = library.concepts.list().length;
    library.close();
    for (const [name, tensors, message] of cases) {
      const file = join(root, `${name}.safetensors`);
      writeSafetensors(file, tensors);
      expect(await runCli(['import-concept', file, '--data-dir', data], io, {}), name).toBe(1);
      expect(err.at(-1), name).toMatch(message);
      expect(err.at(-1), name).toMatch(/[Nn]othing was imported/);
    }
    const after = Library.open(data);
    expect(after.concepts.list()).toHaveLength(before);
    after.close();
  });

  it('keeps every layer of a LoCon LoRA for SD 1.5: convolutions, proj_in/out, feed-forward, time embedding, text MLP', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const r = new SeededRandom(8);
    const all = adaptableLayers(SD15_UNET, SD15_CLIP_TEXT);
    // one layer of each kind, as LyCORIS names and shapes them (3×3 convs: a 3×3 down, a 1×1 up; rank 8, alpha 4)
    const pick = [
      'unet.down_blocks.1.resnets.0.conv1',
      'unet.down_blocks.1.resnets.0.conv_shortcut',
      'unet.down_blocks.1.resnets.0.time_emb_proj',
      'unet.down_blocks.1.attentions.0.proj_in',
      'unet.down_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj',
      'unet.down_blocks.1.downsamplers.0.conv',
      'unet.up_blocks.1.upsamplers.0.conv',
      'unet.conv_in',
      'unet.time_embedding.linear_1',
      'text_model.encoder.layers.3.mlp.fc2',
    ].map((m) => all.find((l) => l.module === m)!);
    const tensors: Parameters<typeof writeSafetensors>[1] = {};
    for (const l of pick) {
      const name = kohyaName(l.module);
      const down = l.kernel ? [8, l.inDim, l.kernel, l.kernel] : [8, l.inDim];
      const up = l.kernel ? [l.outDim, 8, 1, 1] : [l.outDim, 8];
      tensors[`${name}.lora_down.weight`] = { dtype: 'F32', shape: down, data: r.normalArray(down.reduce((a, b) => a * b, 1)) };
      tensors[`${name}.lora_up.weight`] = { dtype: 'F32', shape: up, data: r.normalArray(up.reduce((a, b) => a * b, 1)) };
      tensors[`${name}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(4) };
    }
    const file = join(root, 'locon.safetensors');
    writeSafetensors(file, tensors, { ss_network_module: 'lycoris.kohya' });
    expect(await runCli(['import-concept', file, '--name', 'LoCon style', '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/locon\.safetensors: 10 layers read \(4 linear, 6 convolutional\), rank up to 8, alpha folded in\./);
    expect(err.join('\n')).not.toMatch(/left out/);
    const library = Library.open(data);
    try {
      const stored = tensorsOf(library.concepts.filePath(out[0]!));
      expect(Object.keys(stored)).toHaveLength(20);
      const f = readSafetensorsHeader(library.concepts.filePath(out[0]!));
      expect(f.tensors.get('unet.down_blocks.1.resnets.0.conv1.lora_A.weight')!.shape).toEqual([8, 320, 3, 3]);
      expect(f.tensors.get('unet.down_blocks.1.resnets.0.conv1.lora_B.weight')!.shape).toEqual([640, 8, 1, 1]);
    } finally {
      library.close();
    }
  });

  it('moves a concept between libraries as a .siconcept bundle (tensors, notes, tags), and refuses unsafe bundles changing nothing', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const lib = Library.open(data);
    lib.concepts.update(conceptId, { notes: 'the garden photo', tags: ['pets'] });
    lib.close();
    expect(await runCli(['export', conceptId, '--format', 'bundle', '--out', join(root, 'bundles'), '--data-dir', data], io, {}), err.join('\n')).toBe(0);
    const bundle = out[0]!;
    expect(bundle).toMatch(/rex-the-corgi\.siconcept$/);
    const other = join(root, 'other-library');
    out.length = 0;
    expect(await runCli(['import-concept', bundle, '--data-dir', other], io, {}), err.join('\n')).toBe(0);
    const a = Library.open(data);
    const b = Library.open(other);
    try {
      expect(tensorsOf(b.concepts.filePath(out[0]!))).toEqual(tensorsOf(a.concepts.filePath(conceptId)));
      expect(b.concepts.get(out[0]!)).toMatchObject({ name: 'Rex the Corgi', classWord: 'dog', notes: 'the garden photo', tags: ['pets'] });
    } finally {
      a.close();
      b.close();
    }

    // unsafe or wrong bundles: each refused with a reason, the library unchanged
    const { zipSync, strToU8 } = await import('fflate');
    const good = (await import('fflate')).unzipSync(readFileSync(bundle));
    const write = (name: string, files: Record<string, Uint8Array>) => {
      const path = join(root, 'bundles', name);
      writeFileSync(path, zipSync(files));
      return path;
    };
    const before = Library.open(other);
    const count = before.concepts.list().length;
    before.close();
    const refusedWith = async (path: string, why: RegExp) => {
      expect(await runCli(['import-concept', path, '--data-dir', other], io, {})).toBe(1);
      expect(err.at(-1)).toMatch(why);
    };
    await refusedWith(write('dotdot.siconcept', { ...good, '../evil.txt': strToU8('x') }), /\.\.\/evil\.txt points outside the bundle/);
    const manifest = JSON.parse(Buffer.from(good['manifest.json']!).toString('utf8')) as Record<string, unknown>;
    await refusedWith(
      write('version.siconcept', { ...good, 'manifest.json': strToU8(JSON.stringify({ ...manifest, version: 2 })) }),
      /manifest does not fit version 1 \(version/,
    );
    await refusedWith(write('no-manifest.siconcept', { 'concept.safetensors': good['concept.safetensors']! }), /has no manifest\.json/);
    // a 10 GB entry, declared in the directory: refused before anything is inflated
    const huge = Buffer.from(zipSync({ ...good, 'big.bin': strToU8('small') }));
    const cd = huge.lastIndexOf(Buffer.from('big.bin')) - 46;
    huge.writeUInt32LE(0xffffffff, cd + 24);
    writeFileSync(join(root, 'bundles', 'bomb.siconcept'), huge);
    await refusedWith(join(root, 'bundles', 'bomb.siconcept'), /big\.bin declares 4096 MB \(at most 64 MB an entry\)/);
    // a symbolic link entry (unix mode 120777 in the directory's external attributes)
    const linked = Buffer.from(zipSync({ ...good, link: strToU8('/etc/passwd') }));
    const lc = linked.lastIndexOf(Buffer.from('link')) - 46;
    linked.writeUInt32LE((0o120777 << 16) >>> 0, lc + 38);
    writeFileSync(join(root, 'bundles', 'link.siconcept'), linked);
    await refusedWith(join(root, 'bundles', 'link.siconcept'), /link is a link/);
    const after = Library.open(other);
    expect(after.concepts.list()).toHaveLength(count);
    after.close();
  });

  it('registers an A1111 and a ComfyUI install in place; a rescan adds new files and forgets removed ones; pickles are refused', async () => {
    const { writeTinySingleFile } = await import('../helpers/tiny-checkpoint.js');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    const a1111 = join(root, 'stable-diffusion-webui');
    const comfy = join(root, 'ComfyUI');
    for (const d of [
      join(a1111, 'models', 'Stable-diffusion'),
      join(a1111, 'models', 'Lora'),
      join(a1111, 'embeddings'),
      join(comfy, 'models', 'checkpoints'),
      join(comfy, 'models', 'loras', 'people'),
      join(comfy, 'models', 'embeddings'),
    ])
      mkdirSync(d, { recursive: true });
    const checkpoint = writeTinySingleFile(join(a1111, 'models', 'Stable-diffusion', 'tiny.safetensors'));
    copyFileSync(checkpoint, join(comfy, 'models', 'checkpoints', 'tiny-copy.safetensors'));
    writeFileSync(join(a1111, 'models', 'Stable-diffusion', 'old.ckpt'), 'pickle');
    const io = { out: () => undefined, err: () => undefined };
    await runCli(['export', conceptId, '--format', 'a1111', '--out', join(a1111, 'embeddings'), '--data-dir', data], io, {});
    copyFileSync(join(a1111, 'embeddings', 'rex-the-corgi-lora.safetensors'), join(a1111, 'models', 'Lora', 'rex.safetensors'));
    rmSync(join(a1111, 'embeddings', 'rex-the-corgi-lora.safetensors'));
    copyFileSync(join(a1111, 'models', 'Lora', 'rex.safetensors'), join(comfy, 'models', 'loras', 'people', 'rex.safetensors'));
    writeSafetensors(join(comfy, 'models', 'embeddings', 'not-an-embedding.safetensors'), {
      a: { dtype: 'F32', shape: [2], data: new Float32Array(2) },
      b: { dtype: 'F32', shape: [2], data: new Float32Array(2) },
    });

    const scan = async (folder: string) => {
      const out: string[] = [];
      expect(
        await runCli(['models', 'scan', folder, '--json', '--data-dir', join(root, 'scan-library')], { out: (l) => out.push(l), err: () => undefined }, {}),
      ).toBe(0);
      return JSON.parse(out[0]!) as {
        added: Array<{ family: string; path: string; managed: boolean }>;
        kept: number;
        removed: string[];
        refused: Array<{ path: string; reason: string }>;
      };
    };
    const first = await scan(a1111);
    expect(first.added.map((m) => [m.family, m.path.slice(a1111.length + 1), m.managed]).sort()).toEqual([
      ['embedding', 'embeddings/rex-the-corgi.safetensors', false],
      ['lora', 'models/Lora/rex.safetensors', false],
      ['sd1', 'models/Stable-diffusion/tiny.safetensors', false],
    ]);
    expect(first.refused).toEqual([
      { path: join(a1111, 'models', 'Stable-diffusion', 'old.ckpt'), reason: expect.stringMatching(/pickle file, which can run code/) },
    ]);
    // ComfyUI's extra_model_paths.yaml points at a shared folder outside the install (base_path relative to the file)
    const shared = join(root, 'shared-models');
    for (const d of ['sd', 'more-sd', 'loras']) mkdirSync(join(shared, d), { recursive: true });
    copyFileSync(checkpoint, join(shared, 'more-sd', 'shared-tiny.safetensors'));
    copyFileSync(join(comfy, 'models', 'loras', 'people', 'rex.safetensors'), join(shared, 'loras', 'shared-rex.safetensors'));
    writeFileSync(
      join(comfy, 'extra_model_paths.yaml'),
      'shared:\n  base_path: ../shared-models\n  checkpoints: |\n    sd\n    more-sd\n  loras: loras\n  vae: vae\n',
    );
    const second = await scan(comfy);
    expect(second.added.map((m) => (m.path.startsWith(comfy) ? m.path.slice(comfy.length + 1) : m.path.slice(root.length + 1))).sort()).toEqual([
      'models/checkpoints/tiny-copy.safetensors',
      'models/loras/people/rex.safetensors',
      'shared-models/loras/shared-rex.safetensors',
      'shared-models/more-sd/shared-tiny.safetensors',
    ]);
    expect(second.added.find((m) => m.path.endsWith('shared-rex.safetensors'))?.family).toBe('lora');
    // a file that is not YAML is reported, and the standard folders are still scanned
    writeFileSync(join(comfy, 'extra_model_paths.yaml'), 'shared: [unclosed');
    const broken = await scan(comfy);
    expect(broken.refused).toContainEqual({ path: join(comfy, 'extra_model_paths.yaml'), reason: expect.stringMatching(/does not read as YAML/) });
    expect(broken.kept).toBeGreaterThanOrEqual(2);
    expect(second.refused[0]).toMatchObject({
      path: expect.stringMatching(/not-an-embedding/),
      reason: expect.stringMatching(/^it is not a textual-inversion embedding/),
    });
    // a rescan: one file gone, one new
    rmSync(join(a1111, 'models', 'Lora', 'rex.safetensors'));
    copyFileSync(checkpoint, join(a1111, 'models', 'Stable-diffusion', 'tiny-2.safetensors'));
    const third = await scan(a1111);
    expect(third).toMatchObject({ kept: 2, removed: [join(a1111, 'models', 'Lora', 'rex.safetensors')] });
    expect(third.added.map((m) => m.path)).toEqual([join(a1111, 'models', 'Stable-diffusion', 'tiny-2.safetensors')]);
    // nothing was copied into the library
    const lib = Library.open(join(root, 'scan-library'));
    expect(lib.models.list().every((m) => !m.managed && !m.path.startsWith(join(root, 'scan-library')))).toBe(true);
    lib.close();
  });
});
