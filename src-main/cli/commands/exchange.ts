import { resolve } from 'node:path';
import { EXPORT_FORMATS, type ExportFormat, exportConcept, importConcept } from '../../pipeline/interop/concept-exchange.js';
import type { Command } from '../command.js';
import { UsageError, withLibrary } from '../command.js';

export const exportCommand: Command = {
  name: 'export',
  summary:
    'Write a concept for another tool: a1111 (a textual-inversion embedding that A1111, Forge and ComfyUI read, and its LoRA in kohya naming) ' +
    'or diffusers (learned_embeds.safetensors and pytorch_lora_weights.safetensors). Prints the files and what to type in that tool.',
  usage: 'export <concept-id> --format a1111|diffusers --out <folder>',
  options: { format: { type: 'string' }, out: { type: 'string' } },
  run: async ({ positionals, values, global, io }) => {
    const id = positionals[0];
    if (!id) throw new UsageError('export needs a concept id (see `singleinsert library list`)');
    const format = String(values.format ?? 'a1111') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
    if (!values.out) throw new UsageError('export needs --out <folder>');
    return withLibrary(global, (library) => {
      const { files, prompt } = exportConcept(library, id, format, resolve(String(values.out)));
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
    '(kohya or diffusers/PEFT naming), or from a SingleInsert concept file. --class says what it is.',
  usage: 'import-concept <embedding.safetensors> [<lora.safetensors>] --class face [--name N]',
  options: { class: { type: 'string' }, name: { type: 'string' } },
  run: async ({ positionals, values, global, io }) => {
    if (!positionals.length) throw new UsageError('import-concept needs the embedding file (and its LoRA file, if any)');
    if (!values.class) throw new UsageError('import-concept needs --class (what the concept is: face, dog, jacket…)');
    return withLibrary(global, async (library) => {
      const { conceptId, notes } = await importConcept(library, positionals.map((p) => resolve(p)), { classWord: String(values.class), ...(values.name ? { name: String(values.name) } : {}) });
      for (const n of notes) io.err(`Note: ${n}`);
      io.out(conceptId);
      return 0;
    });
  },
};
