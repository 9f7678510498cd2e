// A concept's LoRA under the names other tools read.
// - kohya (A1111, Forge, ComfyUI): "lora_unet_" / "lora_te_" + the module's name within its model with
//   dots made underscores; A is ".lora_down.weight", B ".lora_up.weight", and ".alpha" scales by alpha/rank.
// - diffusers/PEFT: the module's name under "unet." / "text_encoder.", with ".lora_A.weight" / ".lora_B.weight".
// Our own files name modules as the graph does: "unet.…" and "text_model.…".
import { AppError } from '../../common/app-error.js';
import type { AdaptedLayer } from '../../models/lora-modules.js';

export type LoraFactor = 'down' | 'up';

/** kohya's name of one of our modules. */
export function kohyaName(module: string): string {
  if (module.startsWith('unet.')) return `lora_unet_${module.slice('unet.'.length).replaceAll('.', '_')}`;
  if (module.startsWith('text_model.')) return `lora_te_${module.replaceAll('.', '_')}`;
  throw new AppError('internal', `No kohya name for ${module}`);
}

/** diffusers/PEFT's name of one of our modules. */
export const peftName = (module: string) => (module.startsWith('text_model.') ? `text_encoder.${module}` : module);

/** kohya names → our module names, for the layers of a model (underscores cannot be turned back into dots alone). */
export const kohyaIndex = (layers: readonly AdaptedLayer[]) => new Map(layers.map((l) => [kohyaName(l.module), l]));
export const peftIndex = (layers: readonly AdaptedLayer[]) => new Map(layers.map((l) => [peftName(l.module), l]));
