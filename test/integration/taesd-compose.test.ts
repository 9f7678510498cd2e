// TAESD in the compose service and the CLI: installed through the model manager (folder or original file; one for
// other latents refused by name), it draws the previews while sampling and, when asked, the final images; without
// it, asking for it says what to add and where. A few-step LCM draft goes through the same path.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composition } from '../../src-preload/contract/compose.js';
import { runCli } from '../../src-main/cli/main.js';
import { Library } from '../../src-main/library/library.js';
import { installFromPath } from '../../src-main/model-manager/install.js';
import { composeImages } from '../../src-main/pipeline/compose/compose-service.js';
import { readPngText } from '../../src-main/pipeline/sample/png-metadata.js';
import { importConcept } from '../../src-main/pipeline/interop/concept-exchange.js';
import { adaptableLayers } from '../../src-main/models/lora-modules.js';
import { TINY_CLIP_TEXT, TINY_UNET } from '../../src-main/models/tiny-configs.js';
import { REFERENCE_DIR } from '../helpers/reference-goldens.js';
import { writeTinyFullLora } from '../helpers/random-concept.js';
import { writeTinySingleFile } from '../helpers/tiny-checkpoint.js';
import { writeTinyTaesd } from '../helpers/tiny-taesd.js';

describe('TAESD previews and drafts (tiny SD)', { timeout: 180_000 }, () => {
  let root: string;
  let model: string;
  let dataDir: string;
  let taesd: string;
  const draw = async (library: Library, extra: Record<string, unknown>, previews?: Buffer[]) => {
    const pending: Array<Promise<Buffer>> = [];
    const result = await composeImages(
      library,
      { model, composition: composition.parse({ prompt: 'a dog', steps: 2, seed: 5, width: 32, height: 32, ...extra }), provider: 'cpu' },
      previews ? { onProgress: (p) => pending.push(p.preview()) } : {},
    );
    previews?.push(...(await Promise.all(pending)));
    return result.generations[0]!;
  };
  const size = async (png: Buffer) => sharp(png).metadata();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'si-taesd-compose-'));
    model = writeTinySingleFile(join(root, 'tiny.safetensors'));
    dataDir = join(root, 'library');
    taesd = writeTinyTaesd(join(root, 'tiny-taesd'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('without TAESD: previews are the quick colour look (one pixel a latent); asking for TAESD says what to add', async () => {
    const library = Library.open(dataDir);
    try {
      const previews: Buffer[] = [];
      await draw(library, {}, previews);
      expect(previews).toHaveLength(2);
      expect(await size(previews[0]!)).toMatchObject({ width: 16, height: 16 });
      await expect(draw(library, { decoder: 'taesd' })).rejects.toThrow(
        /Decoding with TAESD needs TAESD \(madebyollin\/taesd.*\): add it in Settings › Models, or `singleinsert models add <path>`\. Or choose the VAE decoder\./,
      );
    } finally {
      library.close();
    }
  });

  it('the model manager tells TAESD by its files and refuses one made for SDXL', async () => {
    const library = Library.open(dataDir);
    try {
      await expect(installFromPath(library, taesd, {})).resolves.toMatchObject({ family: 'taesd', format: 'diffusers' });
      const original = join(root, 'taesd_decoder.safetensors');
      copyFileSync(join(REFERENCE_DIR, 'tiny-taesd', 'taesd_decoder.safetensors'), original);
      const xl = join(root, 'taesdxl_decoder.safetensors');
      copyFileSync(original, xl);
      await expect(installFromPath(library, xl, {})).rejects.toThrow(/for SDXL's latents; SD 1\.x needs taesd/);
      expect(library.models.list().map((m) => m.family)).toEqual(['taesd']);
    } finally {
      library.close();
    }
  });

  it('with TAESD: previews through it at the image size, and final images from it when asked', async () => {
    const library = Library.open(dataDir);
    try {
      const previews: Buffer[] = [];
      const byVae = await draw(library, {}, previews);
      expect(await size(previews[0]!)).toMatchObject({ width: 32, height: 32 });
      const byTaesd = await draw(library, { decoder: 'taesd' });
      const [a, b] = await Promise.all([byVae, byTaesd].map((g) => sharp(library.store.pathOf(g.sha256)).raw().toBuffer()));
      expect(a!.equals(b!)).toBe(false);
      // the image says how it was decoded, so it draws again the same way
      const png = readFileSync(library.store.pathOf(byTaesd.sha256));
      expect(JSON.parse(readPngText(png).singleinsert!)).toMatchObject({ composition: { decoder: 'taesd' } });
      // the last preview is TAESD on the last latents of the same settings: the very pixels of the TAESD image
      expect((await sharp(previews.at(-1)!).raw().toBuffer()).equals(b!)).toBe(true);
    } finally {
      library.close();
    }
  });

  it('the CLI: --decoder taesd and a 2-step LCM draft; a sampler that cannot take the steps is refused', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const common = ['generate', '--model', model, '--prompt', 'a dog', '--width', '32', '--height', '32', '--data-dir', dataDir, '--out', join(root, 'cli')];
    expect(await runCli([...common, '--sampler', 'lcm', '--steps', '2', '--guidance', '1.5', '--decoder', 'taesd'], io, {}), err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/2 lcm steps, guidance 1\.5/);
    expect(await runCli([...common, '--sampler', 'tcd', '--steps', '60'], io, {})).toBe(2);
    expect(err.at(-1)).toMatch(/TCD takes at most 50 steps \(it is made for 4 to 8\)/);
  });

  it('--preset draft: the LCM-LoRA with LCM, 4 steps, guidance 1 and TAESD; without the LoRA it says what to add', async () => {
    const data = join(root, 'draft-library');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const draft = [
      'generate',
      '--model',
      model,
      '--preset',
      'draft',
      '--prompt',
      'a dog',
      '--width',
      '32',
      '--height',
      '32',
      '--seed',
      '3',
      '--data-dir',
      data,
    ];
    expect(await runCli(draft, io, {})).not.toBe(0);
    expect(err.join('\n')).toMatch(
      /--preset draft needs the LCM-LoRA for SD 1\.5 \(latent-consistency\/lcm-lora-sdv1-5\): `singleinsert import-concept <file> --name lcm-lora`\./,
    );
    // a LoRA over every layer (as LCM-LoRA is), imported as a style under its usual name
    const library = Library.open(data);
    const lora = writeTinyFullLora(join(root, 'lcm-lora-sdv1-5.safetensors'), 11);
    const { conceptId } = await importConcept(library, [lora], { classWord: '', name: 'lcm-lora-sdv1-5', layers: adaptableLayers(TINY_UNET, TINY_CLIP_TEXT) });
    library.close();
    // no TAESD here: the draft is decoded by the VAE, and a note says what would make it quicker
    expect(await runCli(draft, io, {}), err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(
      /Note: without TAESD the draft is decoded by the VAE; for a quicker decode, add TAESD \(madebyollin\/taesd, .*\): `singleinsert models add <path>`\./,
    );
    expect(err.join('\n')).toMatch(/4 lcm steps, guidance 1,/);
    const reread = Library.open(data);
    try {
      const [made] = reread.generations.list();
      expect(made!.concepts).toEqual([{ conceptId, placeholder: '*', scale: 1 }]);
      await installFromPath(reread, taesd, {});
    } finally {
      reread.close();
    }
    // with TAESD and a flag over the preset: 2 steps, the rest as the preset says
    expect(await runCli([...draft, '--steps', '2'], io, {}), err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/2 lcm steps, guidance 1,/);
    const last = Library.open(data);
    try {
      const png = readFileSync(last.store.pathOf(last.generations.list()[0]!.sha256));
      expect(JSON.parse(readPngText(png).singleinsert!)).toMatchObject({ composition: { sampler: 'lcm', steps: 2, guidance: 1, decoder: 'taesd' } });
    } finally {
      last.close();
    }
    expect(await runCli([...draft, '--preset', 'fast'], io, {})).toBe(2);
  });
});
