// A TAESD folder for the tiny test pipeline: diffusers' AutoencoderTiny layout and names, seeded random weights, and
// as many levels as the tiny VAE has (2: latents ×2), so its images are the size the tiny model's VAE draws.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../src-main/graph/graph.js';
import type { WeightSource } from '../../src-main/models/params.js';
import { weightsFrom } from '../../src-main/models/params.js';
import { taesdDecode, taesdEncode } from '../../src-main/models/taesd.js';
import { TINY_TAESD } from '../../src-main/models/tiny-configs.js';
import { writeSafetensors, type TensorToWrite } from '../../src-main/weights/safetensors.js';
import { RandomSource } from '../../src-main/weights/sources.js';

export function writeTinyTaesd(folder: string, seed = 7): string {
  // the weights the model asks for, recorded as it is built: no second list of names
  const random = new RandomSource(seed);
  const tensors: Record<string, TensorToWrite> = {};
  const recording: WeightSource = {
    label: random.label,
    shapeOf: (name, expected) => expected,
    load: (name, dtype, shape) => {
      const data = random.load(name, 'float32', shape) as Float32Array;
      tensors[name] = { dtype: 'F32', shape: [...shape], data };
      return data;
    },
  };
  const g = new Graph('tiny-taesd');
  taesdDecode(weightsFrom(g, recording), TINY_TAESD, g.input('z', 'float32', [1, 4, 4, 4]));
  taesdEncode(weightsFrom(g, recording), TINY_TAESD, g.input('x', 'float32', [1, 3, 8, 8]));
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({
      _class_name: 'AutoencoderTiny',
      encoder_block_out_channels: TINY_TAESD.encoderBlockOutChannels,
      decoder_block_out_channels: TINY_TAESD.decoderBlockOutChannels,
      num_encoder_blocks: TINY_TAESD.numEncoderBlocks,
      num_decoder_blocks: TINY_TAESD.numDecoderBlocks,
      latent_channels: 4,
      scaling_factor: 1,
    }),
  );
  writeSafetensors(join(folder, 'diffusion_pytorch_model.safetensors'), tensors);
  return folder;
}
