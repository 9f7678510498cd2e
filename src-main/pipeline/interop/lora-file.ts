// A LoRA another tool wrote, read into a concept's factors: every layer it adapts that the model has
// (attention, proj_in/proj_out, feed-forward, ResNet convolutions, time embedding, samplers, conv_in/out; the
// text encoder's attention and MLP), in kohya's and LyCORIS's naming or PEFT's/diffusers'. kohya's alpha/rank is
// folded into B, so the concept at strength 1 draws the LoRA as trained. What cannot be drawn as its author meant
// (LoHa, LoKr, DoRA, a Tucker middle factor, another base model) is refused by name, before anything is stored.
import { AppError } from '../../common/app-error.js';
import type { AdaptedLayer } from '../../models/lora-modules.js';
import { readTensorAsFloat32, type SafetensorsFile } from '../../weights/safetensors.js';
import { kohyaIndex, peftIndex } from './lora-naming.js';

export interface Factor {
  shape: number[];
  data: Float32Array;
}

/** A concept's LoRA: per module (our names), A (down) and B (up, alpha/rank folded in). */
export type LoraFactors = Map<string, { A?: Factor; B?: Factor }>;

type Naming = 'kohya' | 'peft';
type Part = 'down' | 'up' | 'alpha';

/** Factor kinds other tools write that are not a plain low-rank pair, by the key suffix that shows them. */
const REFUSED: ReadonlyArray<[RegExp, string]> = [
  [/(^|\.)hada_/, 'a LoHa (LyCORIS Hadamard product: hada_w1_a…)'],
  [/(^|\.)lokr_/, 'a LoKr (LyCORIS Kronecker product: lokr_w1…)'],
  [/(^|\.)(dora_scale|lora_magnitude_vector)/, 'a DoRA (weight-decomposed: dora_scale)'],
  [/(^|\.)lora_mid\./, 'a LoCon with a Tucker middle factor (lora_mid; trained with use_tucker)'],
  [/(^|\.)(diff|diff_b|on_input)$/, 'a full-weight difference or (IA)³ file'],
];

/** One key of a LoRA file: the module it names (in the file's naming) and which part it is. */
function parseKey(key: string, naming: Naming): { name: string; part: Part } | null {
  if (naming === 'kohya') {
    const m = /^(lora_(?:unet|te)_[A-Za-z0-9_]+)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(key);
    if (!m) return null;
    return { name: m[1]!, part: m[2] === 'alpha' ? 'alpha' : m[2]!.startsWith('lora_down') ? 'down' : 'up' };
  }
  // PEFT (lora_A/lora_B), diffusers' older lora.down/lora.up, and its attention processors' to_q_lora…
  const m = /^(.+?)\.(?:lora_([AB])\.weight|lora\.(down|up)\.weight|alpha)$/.exec(key);
  if (!m) return null;
  const name = m[1]!.replace(/\.processor\.(to_q|to_k|to_v)_lora$/, '.$1').replace(/\.processor\.to_out_lora$/, '.to_out.0');
  return { name, part: m[2] === 'A' || m[3] === 'down' ? 'down' : m[2] === 'B' || m[3] === 'up' ? 'up' : 'alpha' };
}

/** The base a LoRA's widths point at, from its text-side layers (their input widths are the text encoder's). */
function guessBase(file: SafetensorsFile): string | null {
  for (const [key, entry] of file.tensors) {
    if (!/(attn2[._]to_k|attn2[._]to_v)[._](lora_down|lora_A|lora\.down)|self_attn[._]q_proj[._](lora_down|lora_A|lora\.down)/.test(key)) continue;
    const width = entry.shape[1];
    if (width === 1024) return 'SD 2.x (1024-wide text)';
    if (width === 2048 || width === 1280) return 'SDXL (2048-wide text)';
    if (width === 4096) return 'SD 3 or Flux';
  }
  return null;
}

/** Which naming a file uses, or a refusal saying what it is instead. */
function namingOf(file: SafetensorsFile, name: string): Naming {
  const keys = [...file.tensors.keys()];
  for (const key of keys) {
    for (const [pattern, what] of REFUSED) {
      if (pattern.test(key)) {
        throw new AppError(
          'unsupported-model',
          `${name} is ${what}, which this app cannot draw as its author meant; nothing was imported. Plain LoRA and LoCon (lora_down/lora_up) files are read.`,
        );
      }
    }
  }
  if (keys.some((k) => /^lora_te[12]_/.test(k) || k.startsWith('text_encoder_2.')))
    throw new AppError('unsupported-model', `${name} is a LoRA for SDXL (two text encoders); this app draws with SD 1.x. Nothing was imported.`);
  if (keys.some((k) => /^lora_unet_(input_blocks|middle_block|output_blocks)_/.test(k)))
    throw new AppError(
      'unsupported-model',
      `${name} names its layers as the original SD code does (input_blocks…), as SDXL LoRAs do; SD 1.5 LoRAs from kohya, LyCORIS or diffusers use diffusers' names (down_blocks…). Nothing was imported.`,
    );
  if (keys.some((k) => k.startsWith('lora_unet_') || k.startsWith('lora_te_'))) return 'kohya';
  if (keys.some((k) => (k.startsWith('unet.') || k.startsWith('text_encoder.')) && parseKey(k, 'peft'))) return 'peft';
  throw new AppError('unsupported-model', `${name} is neither an embedding (emb_params) nor a LoRA in kohya, LyCORIS or diffusers naming.`);
}

/** The shapes a layer's factors may have, as [down, up], with the rank from the file. */
function expectedShapes(layer: AdaptedLayer, rank: number): { down: number[][]; up: number[][] } {
  const k = layer.kernel;
  if (!k) return { down: [[rank, layer.inDim]], up: [[layer.outDim, rank]] };
  // a 1×1 conv's factors are sometimes stored as a linear layer's
  const flat = k === 1 ? { down: [[rank, layer.inDim]], up: [[layer.outDim, rank]] } : { down: [], up: [] };
  return { down: [[rank, layer.inDim, k, k], ...flat.down], up: [[layer.outDim, rank, 1, 1], ...flat.up] };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The factors of every layer the file adapts, checked against `layers` (the model's own). */
export function readLoraFactors(file: SafetensorsFile, name: string, layers: readonly AdaptedLayer[], notes: string[]): { lora: LoraFactors; rank: number } {
  const naming = namingOf(file, name);
  const index = naming === 'kohya' ? kohyaIndex(layers) : peftIndex(layers);
  const found = new Map<string, Partial<Record<Part, string>>>();
  for (const key of file.tensors.keys()) {
    const parsed = parseKey(key, naming);
    if (!parsed) continue;
    const parts = found.get(parsed.name) ?? {};
    parts[parsed.part] = key;
    found.set(parsed.name, parts);
  }
  const lora: LoraFactors = new Map();
  const skipped: string[] = [];
  let rank = 0;
  let convolutions = 0;
  const base = () => guessBase(file);
  for (const [moduleName, parts] of found) {
    const layer = index.get(moduleName);
    if (!layer) {
      skipped.push(moduleName);
      continue;
    }
    if (!parts.down || !parts.up) throw new AppError('corrupt-file', `${name}: ${moduleName} has only one of its two factors; nothing was imported.`);
    const down = file.tensors.get(parts.down)!;
    const up = file.tensors.get(parts.up)!;
    const r = down.shape[0]!;
    const wanted = expectedShapes(layer, r);
    if (!wanted.down.some((s) => sameShape(s, down.shape)) || !wanted.up.some((s) => sameShape(s, up.shape))) {
      const seems = base();
      throw new AppError(
        'unsupported-model',
        `${name}: ${moduleName} has factors [${down.shape.join(', ')}] and [${up.shape.join(', ')}]; SD 1.x's ${layer.module} needs [${wanted.down[0]!.join(', ')}] and [${wanted.up[0]!.join(', ')}]. ` +
          (seems ? `The LoRA seems made for ${seems}. ` : 'The file does not fit an SD 1.x model. ') +
          'Nothing was imported.',
      );
    }
    const alphaKey = parts.alpha;
    const alpha = alphaKey ? readTensorAsFloat32(file, alphaKey)[0]! : r;
    if (!Number.isFinite(alpha)) throw new AppError('corrupt-file', `${name}: ${moduleName}'s alpha is not a number; nothing was imported.`);
    const scale = alpha / r;
    const upData = readTensorAsFloat32(file, parts.up);
    const downData = readTensorAsFloat32(file, parts.down);
    for (const [what, data] of [
      ['down', downData],
      ['up', upData],
    ] as const) {
      if (!data.every(Number.isFinite))
        throw new AppError('corrupt-file', `${name}: ${moduleName}'s ${what} factor holds NaN or infinite values; nothing was imported.`);
    }
    // stored as the layer is: a conv's factors 4-D, a linear layer's 2-D
    const k = layer.kernel;
    lora.set(layer.module, {
      A: { shape: k ? [r, layer.inDim, k, k] : [r, layer.inDim], data: downData },
      B: { shape: k ? [layer.outDim, r, 1, 1] : [layer.outDim, r], data: scale === 1 ? upData : upData.map((v) => v * scale) },
    });
    rank = Math.max(rank, r);
    if (k) convolutions++;
  }
  if (lora.size === 0) {
    throw new AppError(
      'unsupported-model',
      `${name}: none of its ${found.size} layers is a layer of SD 1.x (e.g. ${[...found.keys()][0] ?? 'no factors'}); nothing was imported.`,
    );
  }
  notes.push(`${name}: ${lora.size} layers read (${lora.size - convolutions} linear, ${convolutions} convolutional), rank up to ${rank}, alpha folded in.`);
  if (skipped.length) notes.push(`${name}: ${skipped.length} layers SD 1.x does not have were left out (e.g. ${skipped[0]}).`);
  return { lora, rank };
}
