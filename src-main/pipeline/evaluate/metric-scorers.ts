// The metric networks as sessions that score one view at a time: CLIP's image and text embeddings, DINO's class
// token, LPIPS between two images. Each builds its graph once and keeps its session until released.
import type { ExecutionProvider } from '../../../src-preload/contract/common.js';
import { AppError } from '../../common/app-error.js';
import { Graph } from '../../graph/graph.js';
import { GraphSession, sessionForGraph } from '../../graph/runtime/session.js';
import { clipImageEmbeds, clipTextEmbeds } from '../../models/clip-embeddings.js';
import { dinoClassToken } from '../../models/dino-vit.js';
import { LPIPS_MIN_SIZE, lpipsDistance } from '../../models/lpips.js';
import { weightsFrom } from '../../models/params.js';
import { CLIP_MEAN, CLIP_STD } from '../../models/vision.js';
import { CONTEXT_LENGTH } from '../../tokenizer/clip-tokenizer.js';
import type { ClipModel, DinoModel, LpipsModel } from '../../weights/metric-models.js';
import { IMAGENET_MEAN, IMAGENET_STD, metricView, type PlanarImage, resizeBicubic, type ViewSpec } from './preprocess.js';

interface SessionOptions {
  provider: ExecutionProvider;
  cacheDir: string;
}

const float = (data: Float32Array, shape: number[]) => ({ dtype: 'float32' as const, shape, data });

export class ClipScorer {
  private constructor(
    private readonly model: ClipModel,
    private readonly image: GraphSession,
    private readonly text: GraphSession,
    readonly view: ViewSpec,
  ) {}

  static async open(model: ClipModel, options: SessionOptions): Promise<ClipScorer> {
    if (model.tokenizer.vocabSize > model.config.text.vocabSize) {
      throw new AppError(
        'unsupported-model',
        `${model.label}: its text tower knows ${model.config.text.vocabSize} tokens, its tokenizer ${model.tokenizer.vocabSize}.`,
      );
    }
    const s = model.config.vision.imageSize;
    const ig = new Graph('metric-clip-image');
    ig.output(clipImageEmbeds(weightsFrom(ig, model.source), model.config, ig.input('pixels', 'float32', [1, 3, s, s])), 'embeds');
    const tg = new Graph('metric-clip-text');
    const p = weightsFrom(tg, model.source);
    tg.output(clipTextEmbeds(p, model.config, tg.input('ids', 'int64', [1, CONTEXT_LENGTH]), tg.input('eos', 'float32', [1, CONTEXT_LENGTH])), 'embeds');
    const image = await sessionForGraph(ig, options);
    const text = await sessionForGraph(tg, options).catch(async (err: unknown) => {
      await image.release();
      throw err;
    });
    return new ClipScorer(model, image, text, { shortest: s, crop: s, mean: CLIP_MEAN, std: CLIP_STD });
  }

  /** The image_embeds of an image (masked to `mask`, or its complement with `invert`). */
  async embedImage(image: PlanarImage, mask: PlanarImage | null, invert = false): Promise<Float32Array> {
    const s = this.view.crop;
    const out = await this.image.run({ pixels: float(metricView(image, mask, this.view, invert), [1, 3, s, s]) });
    return out.embeds!.data as Float32Array;
  }

  async embedText(text: string): Promise<Float32Array> {
    const encoded = this.model.tokenizer.encode(text);
    const eos = new Float32Array(CONTEXT_LENGTH);
    eos[encoded.length - 1] = 1; // the first end-of-text token, where CLIP pools
    const out = await this.text.run({
      ids: { dtype: 'int64', shape: [1, CONTEXT_LENGTH], data: BigInt64Array.from(encoded.ids, (v) => BigInt(v)) },
      eos: float(eos, [1, CONTEXT_LENGTH]),
    });
    return out.embeds!.data as Float32Array;
  }

  async release(): Promise<void> {
    await Promise.all([this.image.release(), this.text.release()]);
  }
}

export class DinoScorer {
  private constructor(
    private readonly session: GraphSession,
    readonly view: ViewSpec,
  ) {}

  static async open(model: DinoModel, options: SessionOptions): Promise<DinoScorer> {
    const s = model.config.imageSize;
    const g = new Graph('metric-dino');
    g.output(dinoClassToken(weightsFrom(g, model.source), model.config, g.input('pixels', 'float32', [1, 3, s, s]), model.version), 'cls');
    // DINO's evaluation transform: resize the shortest side to 256/224 of the crop, then centre-crop
    return new DinoScorer(await sessionForGraph(g, options), { shortest: Math.round((s * 256) / 224), crop: s, mean: IMAGENET_MEAN, std: IMAGENET_STD });
  }

  async embed(image: PlanarImage, mask: PlanarImage | null, invert = false): Promise<Float32Array> {
    const s = this.view.crop;
    return (await this.session.run({ pixels: float(metricView(image, mask, this.view, invert), [1, 3, s, s]) })).cls!.data as Float32Array;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** LPIPS compares images at this size (the generated ones are resized to it): AlexNet's trunk at 256² costs little. */
export const LPIPS_SIZE = 256;

export class LpipsScorer {
  private constructor(
    private readonly session: GraphSession,
    private readonly size: number,
    /** The session's two image inputs and its distance output (ours: a, b → d; an ONNX export's own names). */
    private readonly names: { a: string; b: string; d: string },
  ) {}

  static async open(model: LpipsModel, options: SessionOptions, size = LPIPS_SIZE): Promise<LpipsScorer> {
    const side = Math.max(size, LPIPS_MIN_SIZE);
    if (model.format === 'onnx') {
      const session = await GraphSession.load(model.path, { provider: options.provider });
      const [a, b] = session.inputNames;
      const d = session.outputNames[0];
      if (session.inputNames.length !== 2 || !a || !b || !d) {
        await session.release();
        throw new AppError(
          'unsupported-model',
          `${model.path}: an LPIPS ONNX model takes two images and gives their distance; this one has inputs ${session.inputNames.join(', ')}.`,
        );
      }
      return new LpipsScorer(session, side, { a, b, d });
    }
    const g = new Graph('metric-lpips');
    const shape = [1, 3, side, side];
    g.output(lpipsDistance(weightsFrom(g, model.source), model.config, g.input('a', 'float32', shape), g.input('b', 'float32', shape)), 'd');
    return new LpipsScorer(await sessionForGraph(g, options), side, { a: 'a', b: 'b', d: 'd' });
  }

  /** An image [0, 1] as LPIPS takes it: resized square to the scorer's size, in [−1, 1]. */
  prepare(image: PlanarImage): Float32Array {
    const resized = image.width === this.size && image.height === this.size ? image : resizeBicubic(image, this.size, this.size);
    return resized.data.map((v) => 2 * v - 1);
  }

  async distance(a: Float32Array, b: Float32Array): Promise<number> {
    const shape = [1, 3, this.size, this.size];
    try {
      const out = await this.session.run({ [this.names.a]: float(a, shape), [this.names.b]: float(b, shape) });
      return out[this.names.d]!.data[0] as number;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(
        'unsupported-model',
        `LPIPS could not compare two ${this.size}×${this.size} images (${(err as Error).message.split('\n')[0]}); an ONNX export must take [N, 3, H, W] of any size, or ${this.size}².`,
      );
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
