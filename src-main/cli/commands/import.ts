import { Library } from '../../library/library.js';
import { importPhotos, photoFromPath } from '../../pipeline/ingest/import-photos.js';
import type { Command } from '../command.js';
import { JSON_OPTION, UsageError } from '../command.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'Import photos into the library (JPEG, PNG, WebP, AVIF/HEIF). Prints one line per file.',
  usage: 'import <file> [<file>…] [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert import ~/Pictures/rex.jpg', 'singleinsert import *.jpg --json'],
  run: async ({ positionals, values, global, io }) => {
    if (positionals.length === 0) throw new UsageError('import needs at least one file.');
    const library = Library.open(global.dataDir);
    try {
      const results = await importPhotos(library, positionals.map(photoFromPath));
      if (values.json) io.out(JSON.stringify(results, null, 2));
      let failed = 0;
      for (const r of results) {
        if (r.status === 'failed') {
          failed++;
          io.err(`singleinsert: ${r.name}: ${r.error.message}`);
        } else if (!values.json) {
          io.out(`${r.image.id}\t${r.status}\t${r.image.width}x${r.image.height}\t${r.name}`);
        }
      }
      return failed > 0 ? 1 : 0;
    } finally {
      library.close();
    }
  },
};
