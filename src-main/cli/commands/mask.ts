import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { AppError } from '../../common/app-error.js';
import { Library } from '../../library/library.js';
import { GroundingDino } from '../../pipeline/mask/grounding-dino.js';
import { MaskService, NO_DETECTOR_HINT } from '../../pipeline/mask/mask-service.js';
import { maskToPng, SamEngine } from '../../pipeline/mask/sam-engine.js';
import { chooseDevice } from '../../system/device-choice.js';
import type { Box, SamPoint } from '../../../src-preload/contract/masks.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

function parsePoint(text: string): SamPoint {
  const m = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?::(neg|pos))?$/.exec(text);
  if (!m) throw new UsageError(`--point takes x,y or x,y:neg (got "${text}")`);
  return { x: Number(m[1]), y: Number(m[2]), positive: m[3] !== 'neg' };
}

function parseBox(text: string): Box {
  const v = text.split(',').map(Number);
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n))) throw new UsageError(`--box takes x0,y0,x1,y1 (got "${text}")`);
  return { x0: v[0]!, y0: v[1]!, x1: v[2]!, y1: v[3]! };
}

export const maskCommand: Command = {
  name: 'mask',
  summary:
    'Make a foreground mask with SAM: from clicks (--point) or a box (--box), or from the class word alone (--class) with GroundingDINO. ' +
    "A library photo's mask with --class is saved in the library as a new version (its file path is printed); --out also writes it to a PNG file, " +
    'and is how a photo outside the library gets its mask.',
  usage: 'mask <image-id|file> [--class face] [--point x,y[:neg]]… [--box x0,y0,x1,y1] [--out mask.png]',
  options: {
    class: {
      type: 'string',
      value: '<word>',
      description: 'What the subject is (face, hair, dog…): found with GroundingDINO when no point or box is given, and the name the mask is saved under.',
    },
    point: { type: 'string', multiple: true, value: 'x,y[:neg]', description: 'A click for SAM in image pixels; :neg marks a place that is not the subject.' },
    box: { type: 'string', value: 'x0,y0,x1,y1', description: 'A box around the subject for SAM, in image pixels.' },
    out: { type: 'string', value: '<file.png>', description: 'Also write the mask to this PNG file.' },
  },
  examples: [
    'singleinsert mask img_1a2b3c4d --class dog --point 390,420',
    'singleinsert mask img_1a2b3c4d --class face',
    'singleinsert mask photo.jpg --box 40,30,600,700 --out mask.png',
  ],
  run: async ({ positionals, values, global, io }) => {
    const target = positionals[0];
    if (!target) throw new UsageError('mask needs an image id or a file');
    const points = ((values.point as string[] | undefined) ?? []).map(parsePoint);
    const box = values.box ? parseBox(String(values.box)) : null;
    const classWord = values.class ? String(values.class) : null;
    if (points.length === 0 && !box && !classWord) throw new UsageError('give --point, --box, or --class');
    // a mask is kept in the library (a library photo with --class); a file goes elsewhere only when asked
    const keptInLibrary = target.startsWith('img_') && classWord !== null;
    if (!keptInLibrary && values.out === undefined) {
      throw new UsageError(
        target.startsWith('img_')
          ? 'give --class to save the mask in the library, or --out <file.png> to write it to a file'
          : 'give --out <file.png>: where to write the mask of a file outside the library',
      );
    }
    const library = Library.open(global.dataDir);
    try {
      let png: Buffer;
      let summary: string;
      let storedAt: string | null = null;
      if (target.startsWith('img_')) {
        const masks = new MaskService(library);
        const image = library.images.get(target);
        const result = points.length || box ? await masks.segment(image.id, { points, box, refine: false }) : (await masks.detect(image.id, classWord!)).mask;
        png = result.png;
        summary = `score ${result.score.toFixed(3)}, covers ${(100 * result.coverage).toFixed(1)}% of ${result.width}×${result.height}`;
        if (classWord) {
          const saved = await masks.save(image.id, classWord, png, points.length || box ? 'sam' : 'auto');
          summary += `; saved in the library as ${saved.id} (${saved.classWord} v${saved.version})`;
          storedAt = library.store.pathOf(saved.sha256);
        }
      } else {
        const path = resolve(target);
        if (!existsSync(path)) throw new AppError('not-found', `"${target}" is neither a library image id (img_…) nor a file.`);
        const bytes = readFileSync(path);
        const sam = await SamEngine.load({ provider: (await chooseDevice('auto', library.preferences.get().provider)).provider });
        const embedding = await sam.embed(bytes);
        let prompt = { points, box };
        if (!points.length && !box) {
          const folder = library.models.list().find((m) => m.family === 'grounding-dino');
          if (!folder) throw new AppError('unavailable', NO_DETECTOR_HINT);
          const best = (await (await GroundingDino.load(folder.path)).detect(bytes, classWord!))[0];
          if (!best) throw new AppError('not-found', `No "${classWord}" was found in ${basename(path)}. Try another word, or give --point.`);
          prompt = { points: [], box: best.box };
        }
        const result = await sam.segment(embedding, prompt);
        png = await maskToPng(result.mask, result.width, result.height);
        const on = result.mask.reduce((s, v) => s + (v ? 1 : 0), 0);
        summary = `score ${result.score.toFixed(3)}, covers ${((100 * on) / result.mask.length).toFixed(1)}% of ${result.width}×${result.height}`;
      }
      if (values.out !== undefined) {
        const out = resolve(String(values.out));
        writeFileSync(out, png);
        io.out(out);
      } else io.out(storedAt!);
      io.err(summary);
      return 0;
    } finally {
      library.close();
    }
  },
};
