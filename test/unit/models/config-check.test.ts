// Model configs are checked before any layer is built, and the failure names the field.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dinoClassToken } from '../../../src-main/models/dino-vit.js';
import { Graph } from '../../../src-main/graph/graph.js';
import { clipTextEncoder } from '../../../src-main/models/clip-text.js';
import { weightsFrom } from '../../../src-main/models/params.js';
import { TINY_CLIP_TEXT, TINY_UNET, TINY_VAE } from '../../../src-main/models/tiny-configs.js';
import { unet } from '../../../src-main/models/unet.js';
import { vaeDecode } from '../../../src-main/models/vae.js';
import { clipVisionPooled } from '../../../src-main/models/vision.js';
import { openStableDiffusion } from '../../../src-main/weights/sd-loader.js';
import { RandomSource } from '../../../src-main/weights/sources.js';
import { REFERENCE_MODEL } from '../../helpers/reference-goldens.js';
import { TINY_VISION } from '../../helpers/tiny-singleinsert.js';

const src = new RandomSource(1);

function unetWith(change: Partial<typeof TINY_UNET>): Graph {
  const g = new Graph('bad unet');
  unet(
    weightsFrom(g, src, { prefix: 'unet.' }),
    { ...TINY_UNET, ...change },
    {
      sample: g.input('x', 'float32', [1, 4, 8, 8]),
      timestep: g.input('t', 'float32', [1]),
      encoderHiddenStates: g.input('c', 'float32', [1, 77, TINY_UNET.crossAttentionDim]),
    },
  );
  return g;
}

describe('model config checks', () => {
  it('name the field, before any layer is built', () => {
    expect(() => unetWith({ blockOutChannels: [32, 60] })).toThrow('config: UNet config: blockOutChannels[1] = 60 is not a multiple of normGroups = 32');
    expect(() => unetWith({ heads: 3 })).toThrow('UNet config: blockOutChannels[0] = 32 is not a multiple of heads = 3');
    expect(() => unetWith({ attentionLevels: [true] })).toThrow('UNet config: attentionLevels has 1 entries for 2 blockOutChannels');
    expect(() => unetWith({ layersPerBlock: 0 })).toThrow('UNet config: layersPerBlock is 0, not a positive whole number');
    const g = new Graph('text');
    expect(() => clipTextEncoder(weightsFrom(g, src), { ...TINY_CLIP_TEXT, heads: 5 }, { inputIds: g.input('ids', 'int64', [1, 77]) })).toThrow(
      'text encoder config: hiddenSize = 48 is not a multiple of heads = 5',
    );
    expect(g.nodes).toHaveLength(0);
    expect(() => vaeDecode(weightsFrom(g, src), { ...TINY_VAE, normGroups: 24 }, g.input('z', 'float32', [1, 4, 2, 2]))).toThrow(
      'VAE config: blockOutChannels[0] = 32 is not a multiple of normGroups = 24',
    );
    expect(() => clipVisionPooled(weightsFrom(g, src), { ...TINY_VISION, patchSize: 7 }, g.input('px', 'float32', [1, 3, 32, 32]))).toThrow(
      'vision tower config: imageSize = 32 is not a multiple of patchSize = 7',
    );
    expect(() => dinoClassToken(weightsFrom(g, src), { ...TINY_VISION, heads: 5 }, g.input('px2', 'float32', [1, 3, 32, 32]))).toThrow(
      'DINO config: hiddenSize = 48 is not a multiple of heads = 5',
    );
    expect(g.nodes).toHaveLength(0);
  });

  it('a diffusers folder whose config cannot work is refused with the file’s field named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'si-bad-config-'));
    try {
      cpSync(REFERENCE_MODEL, dir, { recursive: true });
      const path = join(dir, 'text_encoder', 'config.json');
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), num_attention_heads: 5 }));
      expect(() => openStableDiffusion(dir)).toThrow(
        /: its text encoder cannot be built as configured \(text encoder config: hiddenSize = 48 is not a multiple of heads = 5\)\.$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
