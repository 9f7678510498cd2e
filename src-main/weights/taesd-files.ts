// Opens TAESD as users install it: a diffusers AutoencoderTiny folder (config.json + diffusion_pytorch_model.safetensors,
// `decoder.layers.N…` names), that file alone, or the original single files A1111 and ComfyUI keep in vae_approx/
// (taesd_decoder.safetensors, whose Sequential starts with a weightless clamp so every index is one more than diffusers',
// and taesd_encoder.safetensors, with diffusers' indices). Only safetensors are read.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { readSmallFileSync } from '../common/regular-file.js';
import type { WeightSource } from '../models/params.js';
import { SD15_TAESD, type TaesdConfig } from '../models/taesd.js';
import { safetensorsFiles } from './metric-models.js';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.js';
import { SafetensorsSource } from './sources.js';

export interface TaesdModel {
  readonly config: TaesdConfig;
  /** Weights under diffusers' names (decoder.layers.N…, encoder.layers.N…). */
  readonly weights: WeightSource;
  readonly hasDecoder: boolean;
  readonly hasEncoder: boolean;
}

/** Which half an original single file is, told by its first conv's input: latents (the decoder) or RGB (the encoder). */
function originalHalf(file: SafetensorsFile): 'decoder' | 'encoder' | null {
  if (file.tensors.get('1.weight')?.shape[1] === 4 && !file.tensors.has('0.weight')) return 'decoder';
  if (file.tensors.get('0.weight')?.shape[1] === 3) return 'encoder';
  return null;
}

/** A TAESD made for other latents (SDXL's, SD3's, FLUX's) has the same layers: its name is all that tells. */
function refuseOtherFamilies(path: string): void {
  const name = basename(path).toLowerCase() + ' ' + basename(dirname(path)).toLowerCase();
  const other = /taesdxl|sdxl/.test(name) ? 'SDXL' : /taesd3|sd3/.test(name) ? 'SD3' : /taef1|flux/.test(name) ? 'FLUX' : null;
  if (other)
    throw new AppError(
      'unsupported-model',
      `${basename(path)} looks like the tiny autoencoder for ${other}'s latents; SD 1.x needs taesd (madebyollin/taesd).`,
    );
}

function readConfig(folder: string): Partial<TaesdConfig> {
  const file = join(folder, 'config.json');
  if (!existsSync(file)) return {};
  const hf = JSON.parse(readSmallFileSync(file, 1 << 20, 'a JSON config').toString('utf8')) as Record<string, unknown>;
  if (hf._class_name !== undefined && hf._class_name !== 'AutoencoderTiny')
    throw new AppError('unsupported-model', `${folder} holds a ${String(hf._class_name)}, not TAESD (AutoencoderTiny).`);
  const list = (key: string) => (Array.isArray(hf[key]) ? (hf[key] as number[]) : undefined);
  const num = (key: string) => (typeof hf[key] === 'number' ? (hf[key] as number) : undefined);
  const picked: Partial<Record<keyof TaesdConfig, unknown>> = {
    inChannels: num('in_channels'),
    outChannels: num('out_channels'),
    latentChannels: num('latent_channels'),
    encoderBlockOutChannels: list('encoder_block_out_channels'),
    decoderBlockOutChannels: list('decoder_block_out_channels'),
    numEncoderBlocks: list('num_encoder_blocks'),
    numDecoderBlocks: list('num_decoder_blocks'),
    scalingFactor: num('scaling_factor'),
  };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)) as Partial<TaesdConfig>;
}

/**
 * How a path holds TAESD, told without reading weights: 'diffusers' (an AutoencoderTiny config.json, or a file of
 * `decoder.layers.…` keys), 'original' (taesd_*.safetensors), or null when it is not TAESD.
 */
export function taesdFormat(path: string): 'diffusers' | 'original' | null {
  if (statSync(path).isDirectory()) {
    const config = join(path, 'config.json');
    if (existsSync(config))
      return /"_class_name"\s*:\s*"AutoencoderTiny"/.test(readSmallFileSync(config, 1 << 20, 'a JSON config').toString('utf8')) ? 'diffusers' : null;
    return existsSync(join(path, 'taesd_decoder.safetensors')) ? 'original' : null;
  }
  if (!path.endsWith('.safetensors')) return null;
  if (/^taesd\w*_(de|en)coder\.safetensors$/i.test(basename(path))) return 'original';
  const keys = [...readSafetensorsHeader(path).tensors.keys()];
  return keys.length > 0 && keys.every((k) => /^(de|en)coder\.layers\.\d+\./.test(k)) ? 'diffusers' : null;
}

/** TAESD from a folder or file (see the header); throws saying what is missing or wrong. */
export function openTaesd(path: string): TaesdModel {
  refuseOtherFamilies(path);
  const folder = statSync(path).isDirectory() ? path : dirname(path);
  const files = safetensorsFiles(path, 'TAESD').map(readSafetensorsHeader);
  const diffusersNamed = files.filter((f) => [...f.tensors.keys()].some((k) => /^(de|en)coder\.layers\.\d+\./.test(k)));
  const halves = new Map<'decoder' | 'encoder', SafetensorsFile>();
  for (const f of files) {
    const half = originalHalf(f);
    if (half && !halves.has(half)) halves.set(half, f);
  }
  let weights: WeightSource;
  if (diffusersNamed.length > 0) {
    weights = new SafetensorsSource(basename(path), diffusersNamed);
  } else if (halves.size > 0) {
    const sources = new Map([...halves].map(([half, f]) => [half, new SafetensorsSource(basename(f.path), [f], originalKey(half))]));
    const of = (name: string) => sources.get(name.startsWith('decoder.') ? 'decoder' : 'encoder');
    weights = {
      label: [...sources.values()].map((s) => s.label).join(' + '),
      shapeOf: (name) => of(name)?.shapeOf(name),
      load: (name, dtype, shape, options) => of(name)!.load(name, dtype, shape, options),
    };
  } else {
    throw new AppError('unsupported-model', `${path} holds no TAESD weights (diffusers' decoder.layers.… names, or taesd_decoder.safetensors).`);
  }
  const has = (half: 'decoder' | 'encoder') => weights.shapeOf(`${half}.layers.0.weight`, []) !== undefined;
  // the width and latent channels from the weights, the depth from config.json or SD's TAESD
  const first = weights.shapeOf('decoder.layers.0.weight', []) ?? weights.shapeOf('encoder.layers.0.weight', []);
  const width = first?.[0] ?? 64;
  const fromConfig = readConfig(folder);
  const config: TaesdConfig = {
    ...SD15_TAESD,
    encoderBlockOutChannels: SD15_TAESD.encoderBlockOutChannels.map(() => width),
    decoderBlockOutChannels: SD15_TAESD.decoderBlockOutChannels.map(() => width),
    ...fromConfig,
  };
  const latent = weights.shapeOf('decoder.layers.0.weight', [])?.[1];
  if (latent !== undefined && latent !== 4)
    throw new AppError('unsupported-model', `${basename(path)} decodes ${latent}-channel latents; SD 1.x makes 4 (this TAESD is for another model family).`);
  return { config, weights, hasDecoder: has('decoder'), hasEncoder: has('encoder') };
}

/** diffusers' name → the original file's key: the decoder's indices one up (its leading clamp), the encoder's the same. */
function originalKey(half: 'decoder' | 'encoder'): (name: string) => string {
  return (name) => {
    const m = /^(?:de|en)coder\.layers\.(\d+)\.(.+)$/.exec(name);
    if (!m) return name;
    return `${Number(m[1]) + (half === 'decoder' ? 1 : 0)}.${m[2]}`;
  };
}
