// TAESD where it is installed: the quick decoder for previews while sampling (and training), and for final images
// when a composition asks for it. One lookup and one preview session per job.
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { draftNeedText } from '../../../src-preload/contract/compose.js';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import { taesdScale } from '../../models/taesd.js';
import { openTaesd, type TaesdModel } from '../../weights/taesd-files.js';
import { decoderGraph, toPng } from './decode.js';
import { vaeFactor } from './generate.js';
import { type SessionLoader, sessionLoader } from './sessions.js';

/** The first installed TAESD that opens with a decoder for this model's latents, or null (each one that does not is a note). */
export function installedTaesd(library: Library, sd: StableDiffusionModel, notes: string[]): { model: TaesdModel; name: string } | null {
  for (const record of library.models.list().filter((m) => m.family === 'taesd')) {
    try {
      const model = openTaesd(record.path);
      const [scale, wanted] = [taesdScale(model.config), vaeFactor(sd)];
      if (!model.hasDecoder) notes.push(`${record.name} holds only TAESD's encoder; previews use the quick colour look.`);
      else if (scale !== wanted) notes.push(`${record.name} decodes latents ×${scale}, but ${sd.label}'s are ×${wanted}; it is not used.`);
      else return { model, name: record.name };
    } catch (err) {
      notes.push(`${record.name} could not be opened as TAESD (${(err as Error).message}).`);
    }
  }
  return null;
}

/** Why final images cannot be decoded by TAESD here, and what to add. */
export const noTaesdError = () => new AppError('unavailable', `Decoding with TAESD needs ${draftNeedText('taesd', 'both')}. Or choose the VAE decoder.`);

/** Previews through TAESD: the session is made at the first preview and kept until `release`. */
export function taesdPreviewer(
  model: StableDiffusionModel,
  taesd: TaesdModel,
  options: { provider: ExecutionProvider; cacheDir?: string },
): { preview(latents: Float32Array, h: number, w: number): Promise<Buffer>; release(): Promise<void> } {
  const load: SessionLoader = sessionLoader(options);
  let session: ReturnType<SessionLoader> | null = null;
  let shape = '';
  const channels = model.unet.config.inChannels;
  return {
    async preview(latents, h, w) {
      if (!session || shape !== `${h}x${w}`) {
        if (session) await (await session).release();
        shape = `${h}x${w}`;
        session = load(decoderGraph(model, channels, h, w, 'float32', taesd));
      }
      const out = await (await session).run({ latents: { dtype: 'float32', shape: [1, channels, h, w], data: latents } });
      return toPng(out.image!.data as Float32Array, w * taesdScale(taesd.config), h * taesdScale(taesd.config));
    },
    async release() {
      if (session) await (await session).release();
      session = null;
    },
  };
}
