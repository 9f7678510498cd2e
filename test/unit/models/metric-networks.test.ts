// The report card's networks and views against PyTorch (scripts/reference/make_goldens.py, section 10): a
// CLIP model, DINO v1 and v2 ViTs and LPIPS-AlexNet on seeded random weights, opened from the folders a user installs,
// and the masked, resized, cropped views the protocol feeds them (max |error| ≤ 1e-4 × max |value|). The GPU project
// runs this file again on WebGPU, every node on the device.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/graph/graph.js';
import { clipImageEmbeds, clipTextEmbeds } from '../../../src-main/models/clip-embeddings.js';
import { dinoClassToken } from '../../../src-main/models/dino-vit.js';
import { detectFamily } from '../../../src-main/model-manager/detect-family.js';
import { lpipsDistance } from '../../../src-main/models/lpips.js';
import { weightsFrom } from '../../../src-main/models/params.js';
import { CLIP_MEAN, CLIP_STD } from '../../../src-main/models/vision.js';
import { LpipsScorer } from '../../../src-main/pipeline/evaluate/metric-scorers.js';
import { IMAGENET_MEAN, IMAGENET_STD, metricView, type PlanarImage } from '../../../src-main/pipeline/evaluate/preprocess.js';
import { openClipModel, openDino, openLpips } from '../../../src-main/weights/metric-models.js';
import { expectCloseToGolden, golden, goldenShape, REFERENCE_DIR, runGraph } from '../../helpers/reference-goldens.js';
import { testProvider } from '../../helpers/test-provider.js';

let cacheDir: string;
const run = (g: Graph, feeds: Record<string, Float32Array | BigInt64Array>) => runGraph(g, feeds, { cacheDir, provider: testProvider() });

/** Image `i` of a [B, C, H, W] golden as a planar image. */
function planar(name: string, i: number): PlanarImage {
  const [, channels, height, width] = goldenShape(name) as [number, number, number, number];
  const size = channels * height * width;
  return { channels, height, width, data: golden(name).slice(i * size, (i + 1) * size) };
}

function cropped(image: PlanarImage, height: number, width: number): PlanarImage {
  const data = new Float32Array(image.channels * height * width);
  for (let c = 0; c < image.channels; c++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = image.data[(c * image.height + y) * image.width + x]!;
  return { channels: image.channels, height, width, data };
}

const both = (f: (i: number) => Float32Array) => Float32Array.from([...f(0), ...f(1)]);

describe('the report card’s networks against PyTorch (random weights)', () => {
  beforeAll(() => void (cacheDir = mkdtempSync(join(tmpdir(), 'si-metrics-'))));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  describe('views: masked, antialiased bicubic by the shortest side, centre crop, normalised', () => {
    const clip = { shortest: 32, crop: 32, mean: CLIP_MEAN, std: CLIP_STD };
    it('foreground and background for CLIP (40×56 → 32×44 → 32²)', () => {
      expectCloseToGolden(
        both((i) => metricView(planar('eval.photo', i), planar('eval.mask', i), clip)),
        'eval.clip_fg',
      );
      expectCloseToGolden(
        both((i) => metricView(planar('eval.photo', i), planar('eval.mask', i), clip, true)),
        'eval.clip_bg',
      );
    });
    it('DINO’s resize-then-crop (→ 36×50 → 32²) with ImageNet statistics', () => {
      const dino = { shortest: 36, crop: 32, mean: IMAGENET_MEAN, std: IMAGENET_STD };
      expectCloseToGolden(
        both((i) => metricView(planar('eval.photo', i), planar('eval.mask', i), dino)),
        'eval.dino_fg',
      );
    });
    it('upsampling a small crop (20×24 → 32×38)', () => {
      expectCloseToGolden(
        both((i) => metricView(cropped(planar('eval.photo', i), 20, 24), cropped(planar('eval.mask', i), 20, 24), clip)),
        'eval.upsized',
      );
    });
  });

  it('CLIP: image_embeds and text_embeds (pooled at the first end-of-text token)', async () => {
    const clip = openClipModel(join(REFERENCE_DIR, 'tiny-clip'));
    expect(clip.config).toMatchObject({
      projectionDim: 24,
      eosTokenId: 999,
      vision: { hiddenSize: 40, heads: 5, imageSize: 32 },
      text: { hiddenSize: 32, vocabSize: 1000 },
    });
    const g = new Graph('clip');
    const p = weightsFrom(g, clip.source);
    g.output(clipImageEmbeds(p, clip.config, g.input('pixels', 'float32', [2, 3, 32, 32])), 'image');
    g.output(clipTextEmbeds(p, clip.config, g.input('ids', 'int64', [2, 77]), g.input('eos', 'float32', [2, 77])), 'text');
    const ids = golden('clip.ids');
    const eos = new Float32Array(2 * 77);
    for (const row of [0, 1]) eos[row * 77 + ids.subarray(row * 77, (row + 1) * 77).indexOf(999)] = 1;
    const out = await run(g, { pixels: golden('eval.clip_fg'), ids: BigInt64Array.from(ids, (v) => BigInt(v)), eos });
    expectCloseToGolden(out.image!, 'clip.image_embeds');
    expectCloseToGolden(out.text!, 'clip.text_embeds');
  });

  it('DINO v1 (transformers’ ViTModel): the class token after the final layernorm', async () => {
    const dino = openDino(join(REFERENCE_DIR, 'tiny-dino'));
    expect(dino.config).toMatchObject({ imageSize: 32, patchSize: 8, hiddenSize: 24, heads: 3, eps: 1e-6 });
    const g = new Graph('dino');
    g.output(dinoClassToken(weightsFrom(g, dino.source), dino.config, g.input('pixels', 'float32', [2, 3, 32, 32])), 'cls');
    expectCloseToGolden((await run(g, { pixels: golden('eval.dino_fg') })).cls!, 'dino.cls');
  });

  it('DINOv2 (transformers’ Dinov2Model): renamed blocks with layer scales, at its stored size', async () => {
    const dino = openDino(join(REFERENCE_DIR, 'tiny-dinov2'));
    expect(dino).toMatchObject({ version: 2, description: 'DINOv2 ViT-24-wide/8 at 32²', config: { imageSize: 32, intermediateSize: 48, eps: 1e-6 } });
    const g = new Graph('dinov2');
    g.output(dinoClassToken(weightsFrom(g, dino.source), dino.config, g.input('pixels', 'float32', [2, 3, 32, 32]), 2), 'cls');
    expectCloseToGolden((await run(g, { pixels: golden('eval.dino_fg') })).cls!, 'dinov2.cls');
  });

  it('LPIPS-AlexNet: the distance of two pairs, widths read from the weights', async () => {
    const lpips = openLpips(join(REFERENCE_DIR, 'tiny-lpips', 'lpips_alex.safetensors'));
    if (lpips.format !== 'safetensors') throw new Error('read as ONNX');
    expect(lpips.config.channels).toEqual([16, 24, 32, 24, 24]);
    const g = new Graph('lpips');
    const shape = [2, 3, 64, 64];
    g.output(lpipsDistance(weightsFrom(g, lpips.source), lpips.config, g.input('a', 'float32', shape), g.input('b', 'float32', shape)), 'd');
    expectCloseToGolden((await run(g, { a: golden('lpips.a'), b: golden('lpips.b') })).d!, 'lpips.distance');
  });

  it('LPIPS as PyTorch’s ONNX exporter wrote it: the same distances through the scorer, and the model manager knows it', async () => {
    const path = join(REFERENCE_DIR, 'tiny-lpips', 'lpips_alex.onnx');
    expect(detectFamily(path)).toEqual({ family: 'lpips', format: 'onnx' });
    const model = openLpips(path);
    expect(model).toMatchObject({ format: 'onnx', description: 'LPIPS (ONNX export lpips_alex.onnx)' });
    const scorer = await LpipsScorer.open(model, { provider: testProvider(), cacheDir }, 64);
    try {
      const image = (name: string, i: number) => golden(name).slice(i * 3 * 64 * 64, (i + 1) * 3 * 64 * 64);
      const distances = [await scorer.distance(image('lpips.a', 0), image('lpips.b', 0)), await scorer.distance(image('lpips.a', 1), image('lpips.b', 1))];
      expectCloseToGolden(Float32Array.from(distances), 'lpips.distance');
    } finally {
      await scorer.release();
    }
    // an ONNX file that does not say it is LPIPS is refused, not guessed at
    const other = join(cacheDir, 'detector.onnx');
    copyFileSync(path, other);
    expect(() => detectFamily(other)).toThrow(/read as an LPIPS export when its name says so/);
    expect(detectFamily(other, 'lpips')).toEqual({ family: 'lpips', format: 'onnx' });
  });
});
