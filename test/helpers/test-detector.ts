// A stand-in for GroundingDINO (transformers.js layout, real signature, tiny weights) that SAM tests share.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../src-main/graph/graph.js';
import { writeModel } from '../../src-main/graph/onnx/serialize.js';
import * as op from '../../src-main/graph/ops/index.js';

/**
 * A detector with GroundingDINO's input/output signature (transformers.js export), written by the test:
 * query 1 finds the class word (token 1) in a box around the dog; query 2 only matches the period.
 */
export function writeTestDetector(dir: string, logitsFor: { wordQuery: number; periodQuery: number }) {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const g = new Graph('grounding-dino-test');
  const pixels = g.input('pixel_values', 'float32', [1, 3, 32, 32]);
  g.input('input_ids', 'int64', [1, 4]);
  g.input('attention_mask', 'int64', [1, 4]);
  g.input('token_type_ids', 'int64', [1, 4]);
  g.input('pixel_mask', 'int64', [1, 32, 32]);
  const logits = new Array(3 * 256).fill(-6);
  logits[1 * 256 + 1] = logitsFor.wordQuery;
  logits[2 * 256 + 2] = logitsFor.periodQuery;
  const used = op.mul(op.sumAll(pixels), 0); // reads the image, as a real detector does
  g.output(op.add(g.constant('float32', [1, 3, 256], logits), used), 'logits');
  g.output(g.constant('float32', [1, 3, 4], [0.5, 0.5, 0.1, 0.1, 0.5, 0.55, 0.7, 0.9, 0.2, 0.2, 0.3, 0.3]), 'pred_boxes');
  writeModel(g, join(dir, 'onnx'));
  // writeModel names the file model.onnx: the transformers.js layout
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'grounding-dino' }));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 32, longest_edge: 32 } }));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({ model: { type: 'WordPiece', vocab: { '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '.': 1012, dog: 3899, face: 2227 } } }),
  );
  return dir;
}
