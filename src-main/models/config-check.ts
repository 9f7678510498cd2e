// Model configs checked before any layer is built: a config that cannot work (channels the heads or norm
// groups do not divide, a level list of the wrong length) fails here with the field named, not deep inside
// a reshape. Each model calls its check first; checkArchitecture words the failure for a loaded model.
import { GraphError } from '../graph/errors.js';
import type { ClipTextConfig } from './clip-text.js';
import type { ClipEncoderConfig } from './layers.js';
import type { UNetConfig } from './unet.js';
import type { TaesdConfig } from './taesd.js';
import type { VaeConfig } from './vae.js';
import type { VisionConfig, VisionTowerConfig } from './vision.js';

type Problem = string | false;

const positiveInts = (cfg: object, fields: readonly string[]): Problem[] =>
  fields.map((f) => {
    const v = (cfg as Record<string, unknown>)[f];
    return !(Number.isInteger(v) && (v as number) > 0) && `${f} is ${JSON.stringify(v)}, not a positive whole number`;
  });

const divides = (field: string, values: readonly number[], by: string, n: number): Problem[] =>
  values.map((c, i) => c % n !== 0 && `${field}${values.length > 1 ? `[${i}]` : ''} = ${c} is not a multiple of ${by} = ${n}`);

function fail(model: string, problems: readonly Problem[]): void {
  const first = problems.find(Boolean);
  if (first) throw new GraphError('config', `${model}: ${first}`);
}

function clipEncoderProblems(cfg: ClipEncoderConfig): Problem[] {
  return [
    ...positiveInts(cfg, ['hiddenSize', 'intermediateSize', 'layers', 'heads']),
    !(cfg.eps > 0) && `eps is ${cfg.eps}, not a small positive number`,
    ...(Number.isInteger(cfg.heads) && cfg.heads > 0 ? divides('hiddenSize', [cfg.hiddenSize], 'heads', cfg.heads) : []),
  ];
}

export function checkUNetConfig(cfg: UNetConfig): void {
  const ch = cfg.blockOutChannels;
  fail('UNet config', [
    ...positiveInts(cfg, ['inChannels', 'outChannels', 'layersPerBlock', 'crossAttentionDim', 'heads', 'normGroups']),
    ch.length === 0 && 'blockOutChannels is empty',
    ch.some((c) => !Number.isInteger(c) || c <= 0) && `blockOutChannels [${ch}] holds a value that is not a positive whole number`,
    cfg.attentionLevels.length !== ch.length && `attentionLevels has ${cfg.attentionLevels.length} entries for ${ch.length} blockOutChannels`,
    ...divides('blockOutChannels', ch, 'normGroups', cfg.normGroups),
    ...divides('blockOutChannels', ch, 'heads', cfg.heads),
    !(cfg.normEps > 0) && `normEps is ${cfg.normEps}, not a small positive number`,
  ]);
}

export function checkVaeConfig(cfg: VaeConfig): void {
  fail('VAE config', [
    ...positiveInts(cfg, ['inChannels', 'latentChannels', 'layersPerBlock', 'normGroups']),
    cfg.blockOutChannels.length === 0 && 'blockOutChannels is empty',
    ...divides('blockOutChannels', cfg.blockOutChannels, 'normGroups', cfg.normGroups),
    !(cfg.scalingFactor > 0) && `scalingFactor is ${cfg.scalingFactor}, not a positive number`,
  ]);
}

export function checkTaesdConfig(cfg: TaesdConfig): void {
  const same = (field: 'encoderBlockOutChannels' | 'decoderBlockOutChannels'): Problem =>
    new Set(cfg[field]).size > 1 && `${field} [${cfg[field]}] differ: TAESD keeps one width throughout (as diffusers' AutoencoderTiny does)`;
  fail('TAESD config', [
    ...positiveInts(cfg, ['inChannels', 'outChannels', 'latentChannels']),
    cfg.encoderBlockOutChannels.length !== cfg.numEncoderBlocks.length && 'encoderBlockOutChannels and numEncoderBlocks differ in length',
    cfg.decoderBlockOutChannels.length !== cfg.numDecoderBlocks.length && 'decoderBlockOutChannels and numDecoderBlocks differ in length',
    cfg.encoderBlockOutChannels.length === 0 && 'encoderBlockOutChannels is empty',
    cfg.decoderBlockOutChannels.length === 0 && 'decoderBlockOutChannels is empty',
    same('encoderBlockOutChannels'),
    same('decoderBlockOutChannels'),
    !(cfg.scalingFactor > 0) && `scalingFactor is ${cfg.scalingFactor}, not a positive number`,
  ]);
}

export function checkClipTextConfig(cfg: ClipTextConfig): void {
  fail('text encoder config', [...positiveInts(cfg, ['vocabSize', 'maxPositions']), ...clipEncoderProblems(cfg)]);
}

const visionTowerProblems = (cfg: VisionTowerConfig): Problem[] => [
  ...positiveInts(cfg, ['imageSize', 'patchSize']),
  ...clipEncoderProblems(cfg),
  cfg.imageSize % cfg.patchSize !== 0 && `imageSize = ${cfg.imageSize} is not a multiple of patchSize = ${cfg.patchSize}`,
];

export function checkVisionTowerConfig(cfg: VisionTowerConfig, model = 'vision tower config'): void {
  fail(model, visionTowerProblems(cfg));
}

export function checkVisionConfig(cfg: VisionConfig): void {
  fail('image encoder config', [...positiveInts(cfg, ['tokenDim']), ...visionTowerProblems(cfg)]);
}
