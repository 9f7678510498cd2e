// The Gallery from the command line: the drawn images found, sorted and filtered as the Gallery screen does
// (one query for both), and their boards.
import { boardName, GALLERY_SORTS, type GallerySort, queryGallery } from '../../../src-preload/contract/index.js';
import type { Command } from '../command.js';
import { JSON_OPTION, UsageError, withLibrary } from '../command.js';

const list: Command = {
  name: 'list',
  summary: 'List the drawn images, newest first, as the Gallery shows them.',
  usage: 'gallery list [--search <words>] [--board <name>] [--favourites] [--sort newest|oldest|favourites] [--json]',
  options: {
    search: { type: 'string', value: '<words>', description: 'Only images whose prompt, concepts, seed or boards contain every word.' },
    board: { type: 'string', value: '<name>', description: 'Only the images on this board.' },
    favourites: { type: 'boolean', description: 'Only the images marked as favourites.' },
    sort: { type: 'string', value: 'newest|oldest|favourites', description: 'The order (favourites: marked ones first).', default: 'newest' },
    json: JSON_OPTION,
  },
  examples: ['singleinsert gallery list --search "marble statue"', 'singleinsert gallery list --board "cast: Rex" --json'],
  run: async ({ values, global, io }) => {
    const sort = (values.sort as string | undefined) ?? 'newest';
    if (!GALLERY_SORTS.includes(sort as GallerySort)) throw new UsageError(`--sort is one of ${GALLERY_SORTS.join(', ')} (got "${sort}").`);
    return withLibrary(global, async (library) => {
      const names = Object.fromEntries(library.concepts.list().map((c) => [c.id, c.name]));
      const shown = queryGallery(
        library.generations.list(),
        {
          search: (values.search as string | undefined) ?? '',
          board: (values.board as string | undefined) ?? null,
          favoritesOnly: !!values.favourites,
          sort: sort as GallerySort,
        },
        names,
      );
      if (values.json) io.out(JSON.stringify(shown));
      else if (shown.length === 0) io.err('No drawn image matches.');
      else
        for (const g of shown)
          io.out(
            [
              g.id,
              g.createdAt,
              g.favorite ? '★' : ' ',
              g.composition ? `seed ${g.composition.seed}` : '',
              g.prompt,
              g.concepts.map((c) => `${c.placeholder} ${names[c.conceptId] ?? '(deleted)'} ×${c.scale}`).join(', '),
              g.boards.length ? `[${g.boards.join(', ')}]` : '',
            ].join('\t'),
          );
      return 0;
    });
  },
};

const board: Command = {
  name: 'board',
  summary: 'Put a drawn image on boards, or take it off them.',
  usage: 'gallery board <gen-id> [--add <name>]… [--remove <name>]…',
  options: {
    add: { type: 'string', multiple: true, value: '<name>', description: 'A board to put it on (a new name makes a new board).' },
    remove: { type: 'string', multiple: true, value: '<name>', description: 'A board to take it off.' },
    json: JSON_OPTION,
  },
  examples: ['singleinsert gallery board gen_1a2b3c4d --add "cast: Rex"', 'singleinsert gallery board gen_1a2b3c4d --remove drafts'],
  run: async ({ positionals, values, global, io }) => {
    const id = positionals[0];
    if (!id) throw new UsageError('gallery board needs the image id (see `singleinsert gallery list`).');
    const parse = (name: string) => {
      const checked = boardName.safeParse(name);
      if (!checked.success) throw new UsageError(`"${name}": ${checked.error.issues[0]!.message}.`);
      return checked.data;
    };
    const add = ((values.add as string[] | undefined) ?? []).map(parse);
    const remove = new Set(((values.remove as string[] | undefined) ?? []).map(parse));
    return withLibrary(global, async (library) => {
      const current = library.generations.get(id).boards;
      const record = library.generations.setBoards(id, [...current.filter((b) => !remove.has(b)), ...add]);
      if (values.json) io.out(JSON.stringify(record));
      else io.out(record.boards.length ? `${id} is on ${record.boards.map((b) => `"${b}"`).join(', ')}.` : `${id} is on no board.`);
      return 0;
    });
  },
};

const boards: Command = {
  name: 'boards',
  summary: 'List the boards, with how many images each holds.',
  usage: 'gallery boards [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert gallery boards', 'singleinsert gallery boards --json'],
  run: async ({ values, global, io }) =>
    withLibrary(global, async (library) => {
      const all = library.generations.boards();
      if (values.json) io.out(JSON.stringify(all));
      else if (all.length === 0) io.err('No boards yet; put an image on one with `singleinsert gallery board <gen-id> --add <name>`.');
      else for (const b of all) io.out(`${b.name}\t${b.count} image${b.count === 1 ? '' : 's'}`);
      return 0;
    }),
};

export const galleryCommand: Command = {
  name: 'gallery',
  summary: 'Find drawn images and sort them onto boards.',
  usage: 'gallery <command>',
  children: [list, board, boards],
};
