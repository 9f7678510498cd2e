// Text-prompted boxes with GroundingDINO in the transformers.js ONNX layout:
// config.json (model_type grounding-dino), tokenizer.json, preprocessor_config.json, onnx/model.onnx.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../common/app-error.js';
import { WordPieceTokenizer } from '../../tokenizer/wordpiece.js';
import { GraphSession, type HostTensor } from '../../graph/runtime/session.js';
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';

/** The paper's tooling thresholds. */
export const BOX_THRESHOLD = 0.3;
export const TEXT_THRESHOLD = 0.25;

export interface Detection {
  /** Pixel box in the original image. */
  box: { x0: number; y0: number; x1: number; y1: number };
  score: number;
  label: string;
}

interface Preprocessor {
  size?: { shortest_edge?: number; longest_edge?: number };
  image_mean?: number[];
  image_std?: number[];
}

/** Python's round(): halves go to the even neighbour. */
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** Hugging Face's resize rule: shortest edge to `shortest`, unless the longest would pass `longest`; the long side truncates. */
export function detectorInputSize(width: number, height: number, shortest: number, longest: number): { width: number; height: number } {
  let short = shortest;
  const [minSide, maxSide] = [Math.min(width, height), Math.max(width, height)];
  if ((maxSide / minSide) * short > longest) short = roundHalfEven((longest * minSide) / maxSide);
  return width <= height ? { width: short, height: Math.floor((short * height) / width) } : { width: Math.floor((short * width) / height), height: short };
}

export class GroundingDino {
  private constructor(
    private readonly session: GraphSession,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly pre: Required<Preprocessor> & { size: { shortest_edge: number; longest_edge: number } },
  ) {}

  static async load(folder: string, options: { provider?: ExecutionProvider } = {}): Promise<GroundingDino> {
    const model = ['model.onnx', 'model_quantized.onnx', 'model_fp16.onnx'].map((f) => join(folder, 'onnx', f)).find(existsSync);
    if (!model || !existsSync(join(folder, 'tokenizer.json'))) {
      throw new AppError('unavailable', `${folder} is not a complete GroundingDINO ONNX folder (needs onnx/model.onnx and tokenizer.json).`);
    }
    const pre = existsSync(join(folder, 'preprocessor_config.json'))
      ? (JSON.parse(readFileSync(join(folder, 'preprocessor_config.json'), 'utf8')) as Preprocessor)
      : {};
    const session = await GraphSession.load(model, { provider: options.provider });
    return new GroundingDino(session, WordPieceTokenizer.fromTokenizerJson(readFileSync(join(folder, 'tokenizer.json'), 'utf8')), {
      size: { shortest_edge: pre.size?.shortest_edge ?? 800, longest_edge: pre.size?.longest_edge ?? 1333 },
      image_mean: pre.image_mean ?? [0.485, 0.456, 0.406],
      image_std: pre.image_std ?? [0.229, 0.224, 0.225],
    });
  }

  /** Boxes for `classWord`, best first, kept when their score passes BOX_THRESHOLD. */
  async detect(image: Buffer, classWord: string, thresholds = { box: BOX_THRESHOLD, text: TEXT_THRESHOLD }): Promise<Detection[]> {
    const word = classWord.trim().toLowerCase();
    if (!word) throw new AppError('invalid-input', 'Say what to find (face, hair, dog…).');
    const meta = await sharp(image).metadata();
    const width = meta.autoOrient?.width ?? meta.width!;
    const height = meta.autoOrient?.height ?? meta.height!;
    const size = detectorInputSize(width, height, this.pre.size.shortest_edge, this.pre.size.longest_edge);
    const rgb = await sharp(image).rotate().removeAlpha().resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
    const plane = size.width * size.height;
    const pixels = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++)
      for (let c = 0; c < 3; c++) pixels[c * plane + i] = (rgb[i * 3 + c]! / 255 - this.pre.image_mean[c]!) / this.pre.image_std[c]!;
    // GroundingDINO's prompt: lower case, ending with a period
    const ids = this.tokenizer.encode(`${word}.`);
    const wordTokens = this.tokenizer.tokenize(word).length;
    const n = ids.length;
    const i64 = (values: number[]): HostTensor => ({ dtype: 'int64', shape: [1, values.length], data: BigInt64Array.from(values.map(BigInt)) });
    const feeds: Record<string, HostTensor> = {
      pixel_values: { dtype: 'float32', shape: [1, 3, size.height, size.width], data: pixels },
      input_ids: i64(ids),
      attention_mask: i64(ids.map(() => 1)),
      token_type_ids: i64(ids.map(() => 0)),
      pixel_mask: { dtype: 'int64', shape: [1, size.height, size.width], data: new BigInt64Array(plane).fill(1n) },
    };
    const out = await this.session.run(Object.fromEntries(this.session.inputNames.map((name) => [name, feeds[name]!])));
    const logits = out.logits!.data as Float32Array;
    const boxes = out.pred_boxes!.data as Float32Array;
    const [, queries, textLen] = out.logits!.shape as [number, number, number];
    const detections: Detection[] = [];
    for (let q = 0; q < queries; q++) {
      // score: best probability over the class word's tokens (positions 1…wordTokens)
      let score = 0;
      let textScore = 0;
      for (let t = 0; t < Math.min(n, textLen); t++) {
        const p = 1 / (1 + Math.exp(-logits[q * textLen + t]!));
        if (t >= 1 && t <= wordTokens) textScore = Math.max(textScore, p);
        score = Math.max(score, p);
      }
      if (score <= thresholds.box || textScore <= thresholds.text) continue;
      const [cx, cy, w, h] = [boxes[q * 4]!, boxes[q * 4 + 1]!, boxes[q * 4 + 2]!, boxes[q * 4 + 3]!];
      const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
      detections.push({
        box: {
          x0: clamp((cx - w / 2) * width, width),
          y0: clamp((cy - h / 2) * height, height),
          x1: clamp((cx + w / 2) * width, width),
          y1: clamp((cy + h / 2) * height, height),
        },
        score,
        label: word,
      });
    }
    return detections.sort((a, b) => b.score - a.score);
  }
}
