// A single file's architecture, read from its tensor shapes (fine-tunes keep SD 1.x's, test models are smaller).
import { basename } from 'node:path';
import { AppError } from '../common/app-error.js';
import { type ClipTextConfig, SD15_CLIP_TEXT } from '../models/clip-text.js';
import { SD15_UNET, type UNetConfig } from '../models/unet.js';
import { SD15_VAE, type VaeConfig } from '../models/vae.js';
import { checkClipTextConfig, checkUNetConfig, checkVaeConfig } from '../models/config-check.js';
import { textKeyToLdm } from './ldm-keys.js';
import type { SafetensorsFile } from './safetensors.js';

/** A tensor's shape if it has the rank its role needs; a line naming it otherwise. */
function ranked(file: SafetensorsFile, key: string, shape: readonly number[], rank: number, what: string): readonly number[] {
  if (shape.length !== rank || shape.some((d) => d < 1))
    throw new AppError('corrupt-file', `${basename(file.path)}: ${key} has shape [${shape.join(', ')}], not ${what}.`);
  return shape;
}

/** Head and group counts cannot be seen in shapes: SD 1.x's are used, and a model they do not fit is refused. */
export function inferSingleFileConfigs(file: SafetensorsFile): { unet: UNetConfig; text: ClipTextConfig; vae: VaeConfig } {
  const shape = (key: string) => file.tensors.get(key)?.shape;
  const need = (key: string) => {
    const s = shape(key);
    if (!s) throw new AppError('corrupt-file', `${basename(file.path)} lacks ${key}; it is not a complete SD 1.x checkpoint.`);
    return s;
  };
  const u = 'model.diffusion_model.';
  // UNet: walk input_blocks: resnets (with or without attention) grouped by downsamplers
  const levels: Array<{ channels: number; attention: boolean; layers: number }> = [{ channels: 0, attention: false, layers: 0 }];
  for (let k = 1; shape(`${u}input_blocks.${k}.0.op.weight`) || shape(`${u}input_blocks.${k}.0.out_layers.3.weight`); k++) {
    if (shape(`${u}input_blocks.${k}.0.op.weight`)) {
      levels.push({ channels: 0, attention: false, layers: 0 });
      continue;
    }
    const level = levels[levels.length - 1]!;
    level.channels = need(`${u}input_blocks.${k}.0.out_layers.3.weight`)[0]!;
    level.attention ||= shape(`${u}input_blocks.${k}.1.proj_in.weight`) !== undefined;
    level.layers++;
  }
  const firstAttention = [...file.tensors.keys()].find((key) => key.startsWith(u) && key.endsWith('attn2.to_k.weight'));
  const convIn = ranked(file, `${u}input_blocks.0.0.weight`, need(`${u}input_blocks.0.0.weight`), 4, "a convolution's [out, in, k, k]");
  ranked(file, `${u}out.2.weight`, need(`${u}out.2.weight`), 4, "a convolution's [out, in, k, k]");
  if (levels.some((l) => l.channels === 0) || levels[0]!.layers === 0)
    throw new AppError(
      'corrupt-file',
      `${basename(file.path)} has no UNet down blocks (model.diffusion_model.input_blocks.*); it is not a complete SD 1.x checkpoint.`,
    );
  const unet: UNetConfig = {
    ...SD15_UNET,
    inChannels: convIn[1]!,
    outChannels: need(`${u}out.2.weight`)[0]!,
    blockOutChannels: levels.map((l) => l.channels),
    layersPerBlock: levels[0]!.layers,
    attentionLevels: levels.map((l) => l.attention),
    crossAttentionDim: firstAttention ? need(firstAttention)[1]! : SD15_UNET.crossAttentionDim,
  };
  // Text encoder
  const t = (name: string) => textKeyToLdm(name).map(shape).find(Boolean);
  const embedding = t('text_model.embeddings.token_embedding.weight');
  if (!embedding) throw new AppError('corrupt-file', `${basename(file.path)} has no text encoder token embedding.`);
  ranked(file, 'text_model.embeddings.token_embedding.weight', embedding, 2, "a token embedding's [vocabulary, width]");
  let layers = 0;
  while (t(`text_model.encoder.layers.${layers}.mlp.fc1.weight`)) layers++;
  if (layers === 0)
    throw new AppError(
      'corrupt-file',
      `${basename(file.path)} has no text encoder layers (cond_stage_model…encoder.layers.*); it is not a complete SD 1.x checkpoint.`,
    );
  ranked(file, 'text_model.encoder.layers.0.mlp.fc1.weight', t('text_model.encoder.layers.0.mlp.fc1.weight')!, 2, "a linear layer's [out, in]");
  const text: ClipTextConfig = {
    ...SD15_CLIP_TEXT,
    vocabSize: embedding[0]!,
    hiddenSize: embedding[1]!,
    intermediateSize: t('text_model.encoder.layers.0.mlp.fc1.weight')![0]!,
    layers,
    maxPositions: t('text_model.embeddings.position_embedding.weight')?.[0] ?? 77,
  };
  // VAE
  const v = 'first_stage_model.encoder.down.';
  const vaeChannels: number[] = [];
  while (shape(`${v}${vaeChannels.length}.block.0.conv1.weight`)) vaeChannels.push(need(`${v}${vaeChannels.length}.block.0.conv1.weight`)[0]!);
  let vaeLayers = 0;
  while (shape(`${v}0.block.${vaeLayers}.conv1.weight`)) vaeLayers++;
  const vae: VaeConfig = {
    ...SD15_VAE,
    blockOutChannels: vaeChannels,
    layersPerBlock: vaeLayers,
    latentChannels: need('first_stage_model.post_quant_conv.weight')[0]!,
  };
  try {
    checkUNetConfig(unet);
    checkClipTextConfig(text);
    checkVaeConfig(vae);
  } catch (err) {
    throw new AppError(
      'unsupported-model',
      `${basename(file.path)}: a single file does not record attention head or norm group counts, and SD 1.x's do not fit this model (${(err as Error).message.replace(/^config: /, '')}). ` +
        "Convert it to a diffusers folder, whose config.json files name them (diffusers' convert_original_stable_diffusion_to_diffusers.py does this), and add the folder instead.",
    );
  }
  return { unet, text, vae };
}
