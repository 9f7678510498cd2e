// Diffusers names → the original LDM names of single-file SD 1.x checkpoints (A1111, ComfyUI).
// The model asks for diffusers names; this says where a single file keeps each one.
import type { UNetConfig } from '../models/unet.js';
import type { VaeConfig } from '../models/vae.js';

const RESNET: Array<[string, string]> = [
  ['norm1', 'in_layers.0'],
  ['conv1', 'in_layers.2'],
  ['time_emb_proj', 'emb_layers.1'],
  ['norm2', 'out_layers.0'],
  ['conv2', 'out_layers.3'],
  ['conv_shortcut', 'skip_connection'],
];

const renameResnet = (rest: string) => {
  for (const [from, to] of RESNET) if (rest.startsWith(`${from}.`)) return to + rest.slice(from.length);
  return rest;
};

/** unet.* name → model.diffusion_model.* key. */
export function unetKeyToLdm(name: string, cfg: UNetConfig): string | undefined {
  const p = 'model.diffusion_model.';
  const n = cfg.layersPerBlock;
  let m: RegExpMatchArray | null;
  if ((m = name.match(/^time_embedding\.linear_([12])\.(.+)$/))) return `${p}time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`;
  if ((m = name.match(/^conv_in\.(.+)$/))) return `${p}input_blocks.0.0.${m[1]}`;
  if ((m = name.match(/^conv_norm_out\.(.+)$/))) return `${p}out.0.${m[1]}`;
  if ((m = name.match(/^conv_out\.(.+)$/))) return `${p}out.2.${m[1]}`;
  if ((m = name.match(/^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/))) {
    const block = (n + 1) * Number(m[1]) + Number(m[3]) + 1;
    return m[2] === 'resnets' ? `${p}input_blocks.${block}.0.${renameResnet(m[4]!)}` : `${p}input_blocks.${block}.1.${m[4]}`;
  }
  if ((m = name.match(/^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return `${p}input_blocks.${(n + 1) * (Number(m[1]) + 1)}.0.op.${m[2]}`;
  if ((m = name.match(/^mid_block\.resnets\.([01])\.(.+)$/))) return `${p}middle_block.${m[1] === '0' ? 0 : 2}.${renameResnet(m[2]!)}`;
  if ((m = name.match(/^mid_block\.attentions\.0\.(.+)$/))) return `${p}middle_block.1.${m[1]}`;
  if ((m = name.match(/^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/))) {
    const block = (n + 1) * Number(m[1]) + Number(m[3]);
    return m[2] === 'resnets' ? `${p}output_blocks.${block}.0.${renameResnet(m[4]!)}` : `${p}output_blocks.${block}.1.${m[4]}`;
  }
  if ((m = name.match(/^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) {
    const level = Number(m[1]);
    const hasAttention = [...cfg.attentionLevels].reverse()[level];
    return `${p}output_blocks.${(n + 1) * level + n}.${hasAttention ? 2 : 1}.conv.${m[2]}`;
  }
  return undefined;
}

const VAE_ATTENTION: Record<string, string> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };

/** vae.* name (decoder.…, encoder.…, quant_conv, post_quant_conv) → first_stage_model.* key. */
export function vaeKeyToLdm(name: string, cfg: VaeConfig): string | undefined {
  const p = 'first_stage_model.';
  const levels = cfg.blockOutChannels.length;
  const resnet = (rest: string) => rest.replace(/^conv_shortcut\./, 'nin_shortcut.');
  let m: RegExpMatchArray | null;
  if ((m = name.match(/^(quant_conv|post_quant_conv)\.(.+)$/))) return `${p}${m[1]}.${m[2]}`;
  if ((m = name.match(/^(encoder|decoder)\.(conv_in|conv_out)\.(.+)$/))) return `${p}${m[1]}.${m[2]}.${m[3]}`;
  if ((m = name.match(/^(encoder|decoder)\.conv_norm_out\.(.+)$/))) return `${p}${m[1]}.norm_out.${m[2]}`;
  if ((m = name.match(/^(encoder|decoder)\.mid_block\.resnets\.([01])\.(.+)$/))) return `${p}${m[1]}.mid.block_${Number(m[2]) + 1}.${resnet(m[3]!)}`;
  if ((m = name.match(/^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.+)$/))) {
    return `${p}${m[1]}.mid.attn_1.${VAE_ATTENTION[m[2]!]}.${m[3]}`;
  }
  if ((m = name.match(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return `${p}encoder.down.${m[1]}.block.${m[2]}.${resnet(m[3]!)}`;
  if ((m = name.match(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return `${p}encoder.down.${m[1]}.downsample.conv.${m[2]}`;
  // the decoder's up blocks are numbered from the bottom in LDM
  if ((m = name.match(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/)))
    return `${p}decoder.up.${levels - 1 - Number(m[1])}.block.${m[2]}.${resnet(m[3]!)}`;
  if ((m = name.match(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) return `${p}decoder.up.${levels - 1 - Number(m[1])}.upsample.conv.${m[2]}`;
  return undefined;
}

/** text_model.* name → cond_stage_model.transformer.* key (both layouts seen in SD 1.x files). */
export function textKeyToLdm(name: string): string[] {
  return [`cond_stage_model.transformer.${name}`, `cond_stage_model.transformer.${name.replace(/^text_model\./, '')}`];
}

/** Older diffusers VAE files name the attention query/key/value/proj_attn. */
export function vaeLegacyAttentionKey(name: string): string {
  return name
    .replace(/attentions\.0\.to_q\./, 'attentions.0.query.')
    .replace(/attentions\.0\.to_k\./, 'attentions.0.key.')
    .replace(/attentions\.0\.to_v\./, 'attentions.0.value.')
    .replace(/attentions\.0\.to_out\.0\./, 'attentions.0.proj_attn.');
}
