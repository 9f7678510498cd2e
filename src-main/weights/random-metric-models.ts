// The report card's metric networks with random weights, written as a user installs them (a CLIPModel folder,
// a DINO v1 ViTModel folder, an LPIPS .safetensors): tests and the benchmark open them through the real loaders.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ClipModelConfig, clipImageEmbeds, clipTextEmbeds } from '../models/clip-embeddings.js';
import { dinoClassToken } from '../models/dino-vit.js';
import { type LpipsConfig, lpipsDistance } from '../models/lpips.js';
import { weightsFrom } from '../models/params.js';
import type { VisionTowerConfig } from '../models/vision.js';
import { recordWeights, type WeightFill } from './random-checkpoint.js';
import { writeSafetensors } from './safetensors.js';

const tower = (c: VisionTowerConfig) => ({
  image_size: c.imageSize,
  patch_size: c.patchSize,
  hidden_size: c.hiddenSize,
  intermediate_size: c.intermediateSize,
  num_hidden_layers: c.layers,
  num_attention_heads: c.heads,
  layer_norm_eps: c.eps,
});

export function writeClipModelFolder(dir: string, cfg: ClipModelConfig, fill: WeightFill): string {
  const s = cfg.vision.imageSize;
  const weights = recordWeights((g, src) => {
    const p = weightsFrom(g, src);
    clipImageEmbeds(p, cfg, g.input('pixels', 'float32', [1, 3, s, s]));
    clipTextEmbeds(p, cfg, g.input('ids', 'int64', [1, cfg.text.maxPositions]), g.input('eos', 'float32', [1, cfg.text.maxPositions]));
  }, fill);
  mkdirSync(dir, { recursive: true });
  const t = cfg.text;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'clip',
      projection_dim: cfg.projectionDim,
      text_config: {
        vocab_size: t.vocabSize,
        hidden_size: t.hiddenSize,
        intermediate_size: t.intermediateSize,
        num_hidden_layers: t.layers,
        num_attention_heads: t.heads,
        max_position_embeddings: t.maxPositions,
        layer_norm_eps: t.eps,
        hidden_act: 'quick_gelu',
        eos_token_id: cfg.eosTokenId,
      },
      vision_config: { ...tower(cfg.vision), hidden_act: 'quick_gelu' },
    }),
  );
  writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(weights));
  return dir;
}

export function writeDinoFolder(dir: string, cfg: VisionTowerConfig, fill: WeightFill): string {
  const s = cfg.imageSize;
  const weights = recordWeights((g, src) => dinoClassToken(weightsFrom(g, src), cfg, g.input('pixels', 'float32', [1, 3, s, s])), fill);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'vit', ...tower(cfg), hidden_act: 'gelu', qkv_bias: true }));
  writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(weights));
  return dir;
}

export function writeLpipsFile(path: string, cfg: LpipsConfig, fill: WeightFill): string {
  const shape = [1, 3, 64, 64];
  // lpips keeps its lin weights non-negative (a distance); random ones too
  const nonNegative: WeightFill = (name, s) => (name.startsWith('lin') ? fill(name, s).map(Math.abs) : fill(name, s));
  const weights = recordWeights(
    (g, src) => lpipsDistance(weightsFrom(g, src), cfg, g.input('a', 'float32', shape), g.input('b', 'float32', shape)),
    nonNegative,
  );
  mkdirSync(dirname(path), { recursive: true });
  writeSafetensors(path, Object.fromEntries(weights));
  return path;
}
