import { Library } from '../../library/library.js';
import { FAMILIES, type InstalledFamily } from '../../model-manager/detect-family.js';
import { installFromPath, installFromUrl, removeModel } from '../../model-manager/install.js';
import type { Command } from '../command.js';
import { JSON_OPTION, UsageError } from '../command.js';
import { scanModelFolder } from '../../model-manager/scan-folder.js';

const withLibrary = async <T>(dataDir: string, fn: (library: Library) => Promise<T>) => {
  const library = Library.open(dataDir);
  try {
    return await fn(library);
  } finally {
    library.close();
  }
};

const list: Command = {
  name: 'list',
  summary: 'List installed models.',
  usage: 'models list [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert models list'],
  run: ({ values, global, io }) =>
    withLibrary(global.dataDir, async (library) => {
      const models = library.models.list();
      if (values.json) io.out(JSON.stringify(models, null, 2));
      else if (models.length === 0) io.out('No models installed. Add one with `singleinsert models add <path|url>`.');
      else
        for (const m of models)
          io.out(`${m.id}\t${m.family}\t${m.format}\t${(m.sizeBytes / 1e9).toFixed(2)} GB\t${m.managed ? 'in library' : 'referenced'}\t${m.name}\t${m.path}`);
      return 0;
    }),
};

const add: Command = {
  name: 'add',
  summary: 'Install a model from a local path (referenced in place unless --copy) or an http(s) URL of a .safetensors file (resumable download).',
  usage: `models add <path|url> [--name N] [--family ${FAMILIES.join('|')}] [--copy] [--sha256 HEX]`,
  options: {
    name: { type: 'string', value: '<name>', description: 'The name to refer to the model by.', default: "the file or folder's name" },
    family: {
      type: 'string',
      value: FAMILIES.join('|'),
      description: 'What kind of model it is, when it cannot be told from its files.',
      default: 'read from the files',
    },
    copy: { type: 'boolean', description: 'Copy a local model into the library instead of referring to it in place.' },
    sha256: { type: 'string', value: '<hex>', description: "The download's expected sha256 (64 hex digits); a file that does not match is refused." },
  },
  examples: [
    'singleinsert models add ~/models/v1-5-pruned-emaonly.safetensors',
    'singleinsert models add https://example.org/model.safetensors --sha256 0123…cdef --name sd15',
  ],
  run: ({ positionals, values, global, io }) => {
    const target = positionals[0];
    if (!target) throw new UsageError('models add needs a path or a URL');
    const family = values.family as InstalledFamily | undefined;
    if (family && !FAMILIES.includes(family)) throw new UsageError(`--family must be one of ${FAMILIES.join(', ')}`);
    if (values.sha256 && !/^[0-9a-fA-F]{64}$/.test(String(values.sha256))) throw new UsageError('--sha256 must be 64 hex digits');
    return withLibrary(global.dataDir, async (library) => {
      const name = values.name as string | undefined;
      let lastShown = -1;
      const model = /^https?:\/\//.test(target)
        ? await installFromUrl(library, target, {
            name,
            family,
            sha256: values.sha256 as string | undefined,
            onProgress: ({ received, total }) => {
              const pct = total ? Math.floor((100 * received) / total) : -1;
              if (pct !== lastShown && pct % 10 === 0) io.err(total ? `downloaded ${pct}% (${received} of ${total} bytes)` : `downloaded ${received} bytes`);
              lastShown = pct;
            },
          })
        : await installFromPath(library, target, { name, family, copy: values.copy === true });
      io.out(`${model.id}\t${model.family}\t${model.name}`);
      return 0;
    });
  },
};

const rm: Command = {
  name: 'rm',
  summary: 'Uninstall a model; files are deleted only if the library downloaded or copied them.',
  usage: 'models rm <id|name>',
  run: ({ positionals, global, io }) => {
    if (!positionals[0]) throw new UsageError('models rm needs a model id or name');
    return withLibrary(global.dataDir, async (library) => {
      const model = library.models.get(positionals[0]!);
      const { deletedFiles } = removeModel(library, model.id);
      io.out(`removed ${model.id} (${deletedFiles ? 'files deleted' : `files kept at ${model.path}`})`);
      return 0;
    });
  },
};

const scan: Command = {
  name: 'scan',
  summary:
    'Register the models of an A1111 or ComfyUI install in place (checkpoints, LoRAs, embeddings; nothing is copied). ' +
    'A rescan adds new files and forgets the ones that are gone; pickles and other families are listed as refused, with the reason.',
  usage: 'models scan <folder> [--json]',
  options: { json: JSON_OPTION },
  examples: ['singleinsert models scan ~/stable-diffusion-webui', 'singleinsert models scan ~/ComfyUI --json'],
  run: async ({ positionals, values, global, io }) => {
    const folder = positionals[0];
    if (!folder) throw new UsageError('models scan needs the folder of an A1111 or ComfyUI install');
    return withLibrary(global.dataDir, async (library) => {
      const report = await scanModelFolder(library, folder);
      if (values.json) {
        io.out(JSON.stringify(report));
        return 0;
      }
      for (const m of report.added) io.out(`added\t${m.family}\t${m.path}`);
      for (const path of report.removed) io.out(`removed\t${path}`);
      for (const r of report.refused) io.out(`refused\t${r.path}\t${r.reason}`);
      io.err(`${report.added.length} added, ${report.kept} already known, ${report.removed.length} gone, ${report.refused.length} refused.`);
      return 0;
    });
  },
};

export const modelsCommand: Command = {
  name: 'models',
  summary: 'Install, list and remove models (SD 1.x, GroundingDINO, CLIP, DINO), or register an A1111/ComfyUI install in place.',
  usage: 'models <command>',
  children: [list, add, scan, rm],
};
