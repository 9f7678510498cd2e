// The image encoder a run trains: SingleInsert's own choice (a ViT-B/32 from a seeded random start,
// fed pixels in [−1, 1]; no extra model to install) or a pretrained CLIP vision tower.
import type { LearnSettings } from '../../../src-preload/contract/training.js';
import type { Library } from '../../library/library.js';
import { resolveModel } from '../../model-manager/resolve-model.js';
import type { WeightSource } from '../../models/params.js';
import { CLIP_VIT_B32, type VisionConfig } from '../../models/vision.js';
import { openClipVision } from '../../weights/clip-vision-loader.js';
import { RandomSource } from '../../weights/sources.js';

export interface ImageEncoderChoice {
  config: VisionConfig;
  source: WeightSource;
  /** How photo pixels are scaled for it: [−1, 1] ('signed', the official code) or CLIP's mean and std ('clip'). */
  pixels: 'signed' | 'clip';
  label: string;
}

export const OFFICIAL_ENCODER = 'official';

/**
 * The run's `encoder` is "official" or a CLIP vision model (id, name or path). `official` may replace the ViT-B/32
 * architecture (tests use a small one); its weights always come from the run's seed.
 */
export function openImageEncoder(
  library: Library,
  settings: Pick<LearnSettings, 'encoder' | 'seed' | 'mapperBias'>,
  tokenDim: number,
  official: VisionConfig = CLIP_VIT_B32,
): ImageEncoderChoice {
  const { encoder: ref, seed } = settings;
  const projectionBias = settings.mapperBias;
  if (ref === OFFICIAL_ENCODER) {
    return {
      config: { ...official, tokenDim, projectionBias },
      source: new RandomSource(seed + 1),
      pixels: 'signed',
      label: `ViT-B/${official.patchSize} from a random start (seed ${seed})`,
    };
  }
  const { path } = resolveModel(library, ref);
  const clip = openClipVision(path, tokenDim);
  return { ...clip, config: { ...clip.config, projectionBias }, pixels: 'clip', label: `CLIP vision model ${path}` };
}
