// The files the hostile-input audit hands to the CLI: bad and odd photos, malformed weight files and
// broken diffusers folders. Each maker writes its cases under `dir` and returns them by name; the mix
// of hand-made cases (each one a way a real file goes wrong) and seeded mutations is fixed by the seed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { SeededRandom } from '../graph/random.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../models/tiny-configs.js';
import { fastRandomFill, type SdConfigs, sdWeights, writeDiffusersFolder, writeSingleFileCheckpoint } from '../weights/random-checkpoint.js';
import { mutateBytes } from './mutations.js';

export interface HostileInput {
  name: string;
  path: string;
}

const TINY: SdConfigs = { unet: TINY_UNET, text: TINY_CLIP_TEXT, vae: TINY_VAE };

/** A PNG made chunk by chunk, so its header can claim what its pixels are not. */
function rawPng(width: number, height: number, pixels: Buffer, options: { badCrc?: boolean } = {}): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((crc32(body) ^ (options.badCrc ? 1 : 0)) >>> 0);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function mkfifo(path: string): void {
  if (spawnSync('mkfifo', [path]).status !== 0) writeFileSync(path, 'mkfifo is missing here');
}

/** 77 photos: odd but valid ones, broken ones, things that are not files, and seeded mutations. */
export async function hostilePhotos(dir: string, r: SeededRandom): Promise<HostileInput[]> {
  mkdirSync(dir, { recursive: true });
  const cases: HostileInput[] = [];
  const put = (name: string, bytes: Buffer | string) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    cases.push({ name, path });
  };
  const noise = () => sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } });
  const jpeg = await noise().jpeg().toBuffer();
  const png = await noise().png().toBuffer();
  const webp = await noise().webp().toBuffer();
  // odd but real photos
  put('cmyk.jpg', await noise().toColourspace('cmyk').jpeg().toBuffer());
  put('grey.jpg', await noise().greyscale().jpeg().toBuffer());
  put('16-bit.png', await noise().toColourspace('rgb16').png().toBuffer());
  put('alpha.png', await noise().ensureAlpha(0.5).png().toBuffer());
  put('rotated-exif.jpg', await noise().jpeg().withMetadata({ orientation: 6 }).toBuffer());
  put(
    'one-pixel.png',
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
      .png()
      .toBuffer(),
  );
  put(
    'thin.png',
    await sharp({ create: { width: 8000, height: 4, channels: 3, background: '#345' } })
      .png()
      .toBuffer(),
  );
  put('photo.tiff', await noise().tiff().toBuffer());
  put('photo.gif', await noise().gif().toBuffer());
  put('photo.avif', await noise().avif({ effort: 0 }).toBuffer());
  put('jpeg-named.png', jpeg);
  put('no-extension', png);
  put('name with spaces, ünïcødé\nand a newline.jpg', jpeg);
  put(`${'long'.repeat(60)}.jpg`, jpeg);
  // broken or hostile files
  put('empty.jpg', Buffer.alloc(0));
  put('text.jpg', 'this is not a photo\n');
  put('page.png', '<!doctype html><html><body>hello</body></html>');
  put('vector.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%"/></svg>');
  put('vector-named.png', '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%"/></svg>');
  put('bomb.png', rawPng(60000, 60000, Buffer.alloc(60001 * 8)));
  put('claims-more-rows.png', rawPng(64, 64000, Buffer.alloc(65 * 4)));
  put('bad-crc.png', rawPng(16, 16, Buffer.alloc(17 * 16), { badCrc: true }));
  put('truncated-half.jpg', jpeg.subarray(0, jpeg.length >> 1));
  put('truncated-header.jpg', jpeg.subarray(0, 20));
  put('one-byte.png', png.subarray(0, 1));
  put('trailing-junk.jpg', Buffer.concat([jpeg, Buffer.alloc(4096, 7)]));
  put('truncated.webp', webp.subarray(0, webp.length - 100));
  // things that are not regular files
  const folder = join(dir, 'folder.jpg');
  mkdirSync(folder);
  cases.push({ name: 'a folder', path: folder });
  const fifo = join(dir, 'pipe.jpg');
  mkfifo(fifo);
  cases.push({ name: 'a named pipe', path: fifo });
  const zero = join(dir, 'zero.jpg');
  symlinkSync('/dev/zero', zero);
  cases.push({ name: 'a link to /dev/zero', path: zero });
  cases.push({ name: '/dev/null', path: '/dev/null' });
  const loop = join(dir, 'loop.jpg');
  symlinkSync(loop, loop);
  cases.push({ name: 'a link to itself', path: loop });
  cases.push({ name: 'a missing file', path: join(dir, 'nothing-here.jpg') });
  // seeded mutations of valid photos fill the rest
  const bases = [jpeg, png, webp];
  for (let i = 0; cases.length < 77; i++) put(`mutated-${i}.${['jpg', 'png', 'webp'][i % 3]}`, mutateBytes(r, bases[i % 3]!));
  return cases;
}

/** A safetensors file from a header object and data bytes, exactly as given (no checking). */
function rawSafetensors(header: unknown, data: Buffer, declaredLength?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

/** 95 weight files: hand-made malformations of the header, the data and the model inside, then seeded mutations. */
export function hostileWeights(dir: string, r: SeededRandom): HostileInput[] {
  mkdirSync(dir, { recursive: true });
  const base = readFileSync(writeSingleFileCheckpoint(join(dir, 'base.bin'), TINY, sdWeights(TINY, fastRandomFill(7))));
  const headerLength = Number(base.readBigUInt64LE(0));
  const header = JSON.parse(base.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const data = base.subarray(8 + headerLength);
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  const cases: HostileInput[] = [];
  const put = (name: string, bytes: Buffer) => {
    const path = join(dir, `${name}.safetensors`);
    writeFileSync(path, bytes);
    cases.push({ name, path });
  };
  const edited = (name: string, edit: (h: typeof header) => void) => {
    const h = JSON.parse(JSON.stringify(header)) as typeof header;
    edit(h);
    put(name, rawSafetensors(h, data));
  };
  const convIn = 'model.diffusion_model.input_blocks.0.0.weight';
  const withValue = (name: string, value: number) => {
    const copy = Buffer.from(data);
    const at = header[convIn]!.data_offsets[0] + 12;
    copy.writeFloatLE(value, at);
    put(name, rawSafetensors(header, copy));
  };
  put('empty', Buffer.alloc(0));
  put('seven-bytes', Buffer.alloc(7));
  put('length-2-63', rawSafetensors(header, data, 1n << 63n));
  put('length-past-end', rawSafetensors(header, data, BigInt(base.length)));
  put('length-zero', rawSafetensors(header, data, 0n));
  put('length-one-short', rawSafetensors(header, data, BigInt(headerLength - 1)));
  put('header-not-json', rawSafetensors('{"a": [1, 2', data));
  put('header-array', rawSafetensors('[1, 2, 3]', data));
  put('header-null', rawSafetensors('null', data));
  put('header-deep-nesting', rawSafetensors('['.repeat(200_000) + ']'.repeat(200_000), data));
  put('header-not-utf8', rawSafetensors(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), data));
  put('pickle-named-safetensors', Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, ...Buffer.from('state_dict')]));
  edited('unknown-dtype', (h) => (h[convIn]!.dtype = 'Q9'));
  edited('offsets-reversed', (h) => (h[convIn]!.data_offsets = [h[convIn]!.data_offsets[1], h[convIn]!.data_offsets[0]]));
  edited('offsets-past-end', (h) => (h[convIn]!.data_offsets = [data.length - 4, data.length + 4096]));
  edited(
    'offsets-overlap',
    (h) =>
      (h[keys[1]!]!.data_offsets = [
        h[keys[0]!]!.data_offsets[0],
        h[keys[0]!]!.data_offsets[0] + (h[keys[1]!]!.data_offsets[1] - h[keys[1]!]!.data_offsets[0]),
      ]),
  );
  edited('offsets-not-numbers', (h) => ((h[convIn] as unknown as { data_offsets: unknown }).data_offsets = ['0', 'x']));
  edited('shape-negative', (h) => (h[convIn]!.shape = [-32, 4, 3, 3]));
  edited('shape-overflow', (h) => (h[convIn]!.shape = [2 ** 40, 2 ** 40, 1, 1]));
  edited('shape-mismatch', (h) => (h[convIn]!.shape = [32, 4, 3, 4]));
  edited('shape-fractional', (h) => (h[convIn]!.shape = [32, 4.5, 3, 3]));
  edited('shape-missing', (h) => delete (h[convIn] as Partial<(typeof h)[string]>).shape);
  edited('metadata-not-strings', (h) => ((h as Record<string, unknown>).__metadata__ = { format: { nested: [1, 2] } }));
  edited('no-unet', (h) => {
    for (const k of keys) if (k.startsWith('model.diffusion_model.')) delete h[k];
  });
  edited('no-vae', (h) => {
    for (const k of keys) if (k.startsWith('first_stage_model.')) delete h[k];
  });
  edited('sdxl-keys', (h) => {
    for (const k of keys.filter((k) => k.startsWith('cond_stage_model.'))) {
      h[k.replace('cond_stage_model.', 'conditioner.embedders.0.')] = h[k]!;
      delete h[k];
    }
  });
  edited('sd2-keys', (h) => {
    for (const k of keys.filter((k) => k.startsWith('cond_stage_model.transformer.'))) {
      h[k.replace('cond_stage_model.transformer.', 'cond_stage_model.model.')] = h[k]!;
      delete h[k];
    }
  });
  put(
    'lora-not-checkpoint',
    rawSafetensors(
      { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': { dtype: 'F32', shape: [4, 32], data_offsets: [0, 512] } },
      Buffer.alloc(512),
    ),
  );
  withValue('nan-weight', Number.NaN);
  withValue('inf-weight', Number.POSITIVE_INFINITY);
  // valid: a 0-byte tensor sharing its offset with the next one
  edited(
    'zero-byte-tensor',
    (h) => (h['model_ema.empty'] = { dtype: 'F32', shape: [0], data_offsets: [h[convIn]!.data_offsets[0], h[convIn]!.data_offsets[0]] }),
  );
  const headerEnd = 8 + headerLength;
  for (let i = 0; cases.length < 95; i++) put(`mutated-${i}`, mutateBytes(r, base, 0, r.int(0, 10) < 8 ? headerEnd : base.length));
  rmSync(join(dir, 'base.bin'));
  return cases;
}

/** 32 broken diffusers folders: configs that are wrong in every way a hand edit or a bad download makes them. */
export function hostileFolders(dir: string): HostileInput[] {
  mkdirSync(dir, { recursive: true });
  const good = writeDiffusersFolder(join(dir, 'good'), TINY, sdWeights(TINY, fastRandomFill(7)));
  const cases: HostileInput[] = [];
  const variant = (name: string, change: (d: string) => void) => {
    const path = join(dir, name);
    cpSync(good, path, { recursive: true });
    change(path);
    cases.push({ name, path });
  };
  const write = (file: string, content: string) => (d: string) => writeFileSync(join(d, file), content);
  const remove = (file: string) => (d: string) => rmSync(join(d, file), { recursive: true, force: true });
  const unetConfig = JSON.parse(readFileSync(join(good, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  const textConfig = JSON.parse(readFileSync(join(good, 'text_encoder', 'config.json'), 'utf8')) as Record<string, unknown>;
  const unetWith = (change: Record<string, unknown>) => write('unet/config.json', JSON.stringify({ ...unetConfig, ...change }));
  const textWith = (change: Record<string, unknown>) => write('text_encoder/config.json', JSON.stringify({ ...textConfig, ...change }));
  variant('no-model-index', remove('model_index.json'));
  variant('model-index-garbage', write('model_index.json', '{{{'));
  variant('no-unet-folder', remove('unet'));
  variant('no-unet-weights', remove('unet/diffusion_pytorch_model.safetensors'));
  variant('empty-unet-weights', write('unet/diffusion_pytorch_model.safetensors', ''));
  variant('no-text-encoder', remove('text_encoder'));
  variant('no-vae', remove('vae'));
  variant('unet-config-null', write('unet/config.json', 'null'));
  variant('unet-config-array', write('unet/config.json', '[]'));
  variant('unet-config-empty', write('unet/config.json', ''));
  variant('unet-config-huge', write('unet/config.json', `{"pad": "${'x'.repeat(64 * 1024 * 1024)}"}`));
  variant('unet-no-blocks', unetWith({ block_out_channels: undefined }));
  variant('unet-channels-strings', unetWith({ block_out_channels: ['32', '64'] }));
  variant('unet-channels-negative', unetWith({ block_out_channels: [-32, 64] }));
  variant('unet-channels-fractional', unetWith({ block_out_channels: [32.5, 64] }));
  variant('unet-channels-absurd', unetWith({ block_out_channels: [32, 1e12] }));
  variant('unet-groups-do-not-divide', unetWith({ norm_num_groups: 7 }));
  variant('unet-heads-zero', unetWith({ attention_head_dim: 0 }));
  variant('unet-block-types-mismatch', unetWith({ down_block_types: ['CrossAttnDownBlock2D'] }));
  variant('unet-cross-attention-wrong', unetWith({ cross_attention_dim: 64 }));
  variant('unet-sdxl', unetWith({ addition_embed_type: 'text_time', cross_attention_dim: 2048 }));
  variant('unet-layers-wrong', unetWith({ layers_per_block: 2 }));
  variant('text-heads-do-not-divide', textWith({ num_attention_heads: 7 }));
  variant('text-layers-too-many', textWith({ num_hidden_layers: 12 }));
  variant('text-width-1024', textWith({ hidden_size: 1024 }));
  variant('text-vocab-string', textWith({ vocab_size: 'many' }));
  variant('vae-config-missing-field', write('vae/config.json', JSON.stringify({ layers_per_block: 1 })));
  variant('tokenizer-no-merges', remove('tokenizer/merges.txt'));
  variant('tokenizer-empty-vocab', write('tokenizer/vocab.json', '{}'));
  variant('tokenizer-vocab-garbage', write('tokenizer/vocab.json', '{"a": '));
  variant('config-is-a-pipe', (d) => {
    rmSync(join(d, 'unet', 'config.json'));
    mkfifo(join(d, 'unet', 'config.json'));
  });
  variant('config-is-a-folder', (d) => {
    rmSync(join(d, 'unet', 'config.json'));
    mkdirSync(join(d, 'unet', 'config.json'));
  });
  return cases;
}
