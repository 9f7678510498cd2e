import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportBundle } from '../../pipeline/interop/concept-bundle.js';
import { EXPORT_FORMATS, type ExportFormat, exportConcept } from '../../pipeline/interop/concept-exchange.js';
import { importConceptFiles } from '../../pipeline/interop/import-concept-files.js';
import type { Command } from '../command.js';
import { UsageError, withLibrary } from '../command.js';

export const exportCommand: Command = {
  name: 'export',
  summary:
    'Write a concept for another tool: a1111 (a textual-inversion embedding that A1111, Forge and ComfyUI read, and its LoRA in kohya naming) ' +
    'or diffusers (learned_embeds.safetensors and pytorch_lora_weights.safetensors), or bundle (a .siconcept file another SingleInsert library imports, ' +
    'with notes, tags, thumbnail and previews). Prints the files and what to type in that tool.',
  usage: 'export <concept-id> --format a1111|diffusers|bundle --out <folder>',
  options: {
    format: {
      type: 'string',
      value: 'a1111|diffusers|bundle',
      description: 'What to write: files for A1111/ComfyUI, for diffusers, or a .siconcept bundle.',
      default: 'a1111',
    },
    out: { type: 'string', value: '<folder>', description: 'The folder to write the files into (made if missing).' },
  },
  examples: ['singleinsert export con_1a2b3c4d --format a1111 --out ~/webui/models', 'singleinsert export con_1a2b3c4d --format bundle --out ~/Desktop'],
  run: async ({ positionals, values, global, io }) => {
    const id = positionals[0];
    if (!id) throw new UsageError('export needs a concept id (see `singleinsert library list`)');
    const format = String(values.format ?? 'a1111');
    if (format !== 'bundle' && !EXPORT_FORMATS.includes(format as ExportFormat))
      throw new UsageError(`--format must be one of ${[...EXPORT_FORMATS, 'bundle'].join(', ')}`);
    if (!values.out) throw new UsageError('export needs --out <folder>');
    return withLibrary(global, async (library) => {
      if (format === 'bundle') {
        mkdirSync(resolve(String(values.out)), { recursive: true });
        io.out(await exportBundle(library, id, resolve(String(values.out))));
        return 0;
      }
      const { files, prompt } = exportConcept(library, id, format as ExportFormat, resolve(String(values.out)));
      for (const f of files) io.out(f);
      io.err(`In the prompt: ${prompt}`);
      return 0;
    });
  },
};

export const importConceptCommand: Command = {
  name: 'import-concept',
  summary:
    'Make a concept from an embedding another tool wrote (A1111/ComfyUI emb_params, diffusers learned_embeds), with its LoRA if it has one ' +
    '(kohya or diffusers/PEFT naming), or from a SingleInsert concept file; a LoRA alone becomes a style concept (no token). ' +
    '--class says what an embedding is; a .siconcept bundle carries its own.',
  usage:
    'import-concept <embedding.safetensors> [<lora.safetensors>] --class face [--name N]  |  import-concept <lora.safetensors> [--name N]  |  import-concept <concept.siconcept>',
  options: {
    class: {
      type: 'string',
      value: '<word>',
      description: 'What the embedding is (face, dog, jacket…): the word after its token in prompts. Not needed for a LoRA alone or a bundle.',
    },
    name: { type: 'string', value: '<name>', description: "The concept's name in the library.", default: "the file's name" },
  },
  examples: [
    'singleinsert import-concept rex.safetensors rex-lora.safetensors --class dog --name Rex',
    'singleinsert import-concept watercolour.safetensors',
    'singleinsert import-concept rex.siconcept',
  ],
  run: async ({ positionals, values, global, io }) => {
    if (!positionals.length) throw new UsageError('import-concept needs the embedding file (and its LoRA file, if any), a LoRA alone, or a .siconcept bundle');
    return withLibrary(global, async (library) => {
      const options = { ...(values.class ? { classWord: String(values.class) } : {}), ...(values.name ? { name: String(values.name) } : {}) };
      const { conceptId, notes } = await importConceptFiles(
        library,
        positionals.map((p) => resolve(p)),
        options,
      );
      for (const n of notes) io.err(`Note: ${n}`);
      io.out(conceptId);
      return 0;
    });
  },
};
