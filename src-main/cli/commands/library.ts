import { AppError } from '../../common/app-error.js';
import { Library } from '../../library/library.js';
import type { Command } from '../command.js';
import { JSON_OPTION, UsageError } from '../command.js';

const list: Command = {
  name: 'list',
  summary: 'List the images and concepts in the library.',
  usage: 'library list [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert library list', 'singleinsert library list --json'],
  run: async ({ values, global, io }) => {
    const library = Library.open(global.dataDir);
    try {
      const images = library.images.list();
      const concepts = library.concepts.list();
      if (values.json) {
        io.out(JSON.stringify({ images, concepts }, null, 2));
        return 0;
      }
      if (images.length === 0 && concepts.length === 0) {
        io.out('The library is empty. Add a photo with `singleinsert import <file>`.');
        return 0;
      }
      for (const i of images) io.out(`${i.id}\timage\t${i.width}x${i.height}\t${i.createdAt}\t${i.name}`);
      for (const c of concepts) io.out(`${c.id}\tconcept\t${c.status}\t${c.createdAt}\t${c.name} (${c.token} ${c.classWord})`);
      return 0;
    } finally {
      library.close();
    }
  },
};

const rm: Command = {
  name: 'rm',
  summary: 'Delete an image (with its masks) or a concept (with its weights) and their files.',
  usage: 'library rm <id> [<id>…]',
  run: async ({ positionals, global, io }) => {
    if (positionals.length === 0) throw new UsageError('library rm needs an id (see `singleinsert library list`).');
    const library = Library.open(global.dataDir);
    try {
      for (const id of positionals) {
        const { removedFiles } = id.startsWith('img_')
          ? await library.images.delete(id)
          : id.startsWith('con_')
            ? await library.concepts.delete(id)
            : (() => {
                throw new AppError('invalid-input', `"${id}" is not an image (img_…) or concept (con_…) id.`);
              })();
        io.out(`removed ${id} (${removedFiles} file${removedFiles === 1 ? '' : 's'})`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};

export const libraryCommand: Command = {
  name: 'library',
  summary: 'Look at and tidy the concept library.',
  usage: 'library <command>',
  children: [list, rm],
};
