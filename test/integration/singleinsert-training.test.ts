import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src-main/graph/random.js';
import { Trainer } from '../../src-main/graph/runtime/trainer.js';
import { TINY_CLIP_TEXT } from '../../src-main/models/tiny-configs.js';
import { buildSingleInsertStep } from '../../src-main/pipeline/invert/training-step.js';
import { stepFeeds } from '../../src-main/pipeline/invert/step-feeds.js';
import { scaledLinearSchedule } from '../../src-main/schedulers/ddpm-schedule.js';
import { tmpDir } from '../helpers/tmp.js';
import { tinyExample, tinySingleInsertModels } from '../helpers/tiny-singleinsert.js';

const models = tinySingleInsertModels;

const example = tinyExample;

describe('Stage I (inversion) on a tiny SD', () => {
  it('trains the image encoder through the frozen text encoder and UNet: the loss falls', async () => {
    const shape = { batch: 2, latent: [8, 8] as [number, number] };
    const trainer = await Trainer.create({
      build: (g) => buildSingleInsertStep(g, models, shape, { trainVision: true }),
      optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
      cacheDir: tmpDir(),
    });
    // the encoder is what trains: the mapper and the ViT, nothing of SD
    const names = Object.keys(await trainer.parameters());
    expect(names).toContain('mapper.proj.weight');
    // SingleInsert's projection is a bare matrix, so clipping sees the official gradient norm
    expect(names).not.toContain('mapper.proj.bias');
    expect(names).toContain('vision_model.encoder.layers.0.self_attn.q_proj.weight');
    expect(names.some((n) => n.startsWith('unet') || n.startsWith('text_model'))).toBe(false);

    const data = example();
    const schedule = scaledLinearSchedule();
    // the same timesteps and noise every step, so losses compare
    const feeds = () => stepFeeds(data, shape, new SeededRandom(11), schedule);
    const first = await trainer.step([feeds()], 3e-3);
    expect(first.outputs.token!.shape).toEqual([2, 1, TINY_CLIP_TEXT.hiddenSize]);
    expect(first.outputs.l_fg!.data[0]).toBeGreaterThan(0);
    let last = first;
    for (let i = 0; i < 12; i++) last = await trainer.step([feeds()], 3e-3);
    expect(last.loss).toBeLessThan(first.loss * 0.95);
    expect(Number.isFinite(last.gradNorm)).toBe(true);
    await trainer.release();
  }, 120_000);

  it('Stage II trains LoRA on UNet and text encoder with the encoder; L_sm starts at exactly zero', async () => {
    const shape = { batch: 1, latent: [8, 8] as [number, number] };
    const trainer = await Trainer.create({
      build: (g) => buildSingleInsertStep(g, models, shape, { stage: 2, loraRank: 4 }),
      optimizer: { weightDecay: 1e-2, maxGradNorm: 1 },
      cacheDir: tmpDir(),
    });
    const names = Object.keys(await trainer.parameters());
    expect(names).toContain('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight');
    expect(names).toContain('text_model.encoder.layers.1.self_attn.v_proj.lora_B.weight');
    expect(names).toContain('mapper.proj.weight');
    const data = example();
    const feeds = () => stepFeeds(data, shape, new SeededRandom(12), scaledLinearSchedule());
    const first = await trainer.step([feeds()], 3e-3);
    // B = 0 at the start: the adapted model on the class prompt is the frozen one
    expect(first.outputs.l_sm!.data[0]).toBe(0);
    let last = first;
    for (let i = 0; i < 8; i++) last = await trainer.step([feeds()], 3e-3);
    expect(last.loss).toBeLessThan(first.loss);
    expect(Number(last.outputs.l_sm!.data[0])).toBeGreaterThan(0);
    await trainer.release();
  }, 180_000);

  it('draws timesteps in [0, 1000) and noise from the seed, reproducibly', () => {
    const shape = { batch: 4, latent: [8, 8] as [number, number] };
    const a = stepFeeds(example(), shape, new SeededRandom(3), scaledLinearSchedule());
    const b = stepFeeds(example(), shape, new SeededRandom(3), scaledLinearSchedule());
    expect(Array.from(a.timestep!.data as Float32Array)).toEqual(Array.from(b.timestep!.data as Float32Array));
    expect(new Set(Array.from(a.timestep!.data as Float32Array)).size).toBeGreaterThan(1);
    for (const t of a.timestep!.data as Float32Array) expect(t >= 0 && t < 1000 && Number.isInteger(t)).toBe(true);
    const sa = a.sqrt_alpha_bar!.data as Float32Array;
    const s1 = a.sqrt_one_minus!.data as Float32Array;
    sa.forEach((v, i) => expect(v * v + s1[i]! * s1[i]!).toBeCloseTo(1, 5));
    expect(Array.from((a.placeholder_mask!.data as Float32Array).slice(0, 77)).indexOf(1)).toBe(1);
  });
});
