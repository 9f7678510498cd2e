// Concepts to and from the tools people already generate with.
// Export: "a1111" writes a textual-inversion embedding (`emb_params`, [1, width]; A1111, Forge and ComfyUI
// read it, and the file's name is the word to type) and the LoRA in kohya's naming; "diffusers" writes
// the LoRA in PEFT naming (pytorch_lora_weights.safetensors) and the embedding as learned_embeds.safetensors.
// Import: any of those (an embedding, with or without a LoRA in either naming) or our own concept file.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../../common/app-error.js';
import type { Library } from '../../library/library.js';
import { SD15_CLIP_TEXT } from '../../models/clip-text.js';
import { type AdaptedLayer, adaptableLayers } from '../../models/lora-modules.js';
import { SD15_UNET } from '../../models/unet.js';
import { readSafetensorsHeader, readTensorAsFloat32, type SafetensorsFile, type TensorToWrite, writeSafetensors } from '../../weights/safetensors.js';
import { CONCEPT_FORMAT, type ConceptMeta, type ConceptTensors, readConceptTensors, writeConceptFile } from '../compose/concept-file.js';
import { readLoraFactors } from './lora-file.js';
import { kohyaName, peftName } from './lora-naming.js';

export const EXPORT_FORMATS = ['a1111', 'diffusers'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** SD 1.x's layers a LoRA can adapt (all linear and convolutional ones). */
let sd1Layers: AdaptedLayer[] | undefined;
const layersOfSd1 = () => (sd1Layers ??= adaptableLayers(SD15_UNET, SD15_CLIP_TEXT));

/** A file name and prompt word from a concept's name: letters, digits and dashes. */
export const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'concept';

const f32 = (shape: number[], data: Float32Array): TensorToWrite => ({ dtype: 'F32', shape, data });

/** Writes the concept in another tool's form; returns the files and what to type in that tool. */
export function exportConcept(library: Library, conceptId: string, format: ExportFormat, outDir: string): { files: string[]; prompt: string } {
  const record = library.concepts.get(conceptId);
  const c = readConceptTensors(library.concepts.filePath(conceptId));
  const slug = slugOf(record.name);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const embedding = c.token ? f32([1, c.token.length], c.token) : null;
  if (format === 'a1111') {
    if (embedding) {
      const emb = join(outDir, `${slug}.safetensors`);
      writeSafetensors(emb, { emb_params: embedding }, { name: slug, class_word: record.classWord });
      files.push(emb);
    }
    if (c.lora.size) {
      const tensors: Record<string, TensorToWrite> = {};
      for (const [module, { A, B }] of c.lora) {
        const name = kohyaName(module);
        tensors[`${name}.lora_down.weight`] = f32(A!.shape, A!.data);
        tensors[`${name}.lora_up.weight`] = f32(B!.shape, B!.data);
        tensors[`${name}.alpha`] = f32([], Float32Array.of(A!.shape[0]!)); // alpha = rank: scale 1, as learned
      }
      const lora = join(outDir, `${slug}-lora.safetensors`);
      writeSafetensors(lora, tensors, {
        ss_network_module: 'networks.lora',
        ss_network_dim: String(c.rank),
        ss_network_alpha: String(c.rank),
        ss_base_model_version: 'sd_v1',
        ss_output_name: `${slug}-lora`,
      });
      files.push(lora);
    }
    if (!embedding) return { files, prompt: `<lora:${slug}-lora:1> in any prompt   (ComfyUI: ${slug}-lora in a LoRA loader)` };
    const lora = c.lora.size ? `, <lora:${slug}-lora:1>` : '';
    return { files, prompt: `${slug} ${record.classWord}${lora}   (ComfyUI: "embedding:${slug} ${record.classWord}", with ${slug}-lora in a LoRA loader)` };
  }
  const dir = join(outDir, `${slug}-diffusers`);
  mkdirSync(dir, { recursive: true });
  const emb = join(dir, 'learned_embeds.safetensors');
  if (embedding) {
    writeSafetensors(emb, { [`<${slug}>`]: embedding });
    files.push(emb);
  }
  if (c.lora.size) {
    const tensors: Record<string, TensorToWrite> = {};
    for (const [module, { A, B }] of c.lora) {
      tensors[`${peftName(module)}.lora_A.weight`] = f32(A!.shape, A!.data);
      tensors[`${peftName(module)}.lora_B.weight`] = f32(B!.shape, B!.data);
    }
    const lora = join(dir, 'pytorch_lora_weights.safetensors');
    writeSafetensors(lora, tensors);
    files.push(lora);
  }
  if (!embedding) return { files, prompt: `pipe.load_lora_weights("${dir}"); any prompt` };
  return {
    files,
    prompt: `pipe.load_textual_inversion("${emb}", token="<${slug}>")${c.lora.size ? `; pipe.load_lora_weights("${dir}")` : ''}; prompt "<${slug}> ${record.classWord} …"`,
  };
}

/** What one file holds, read from its keys. */
function readForeign(
  file: SafetensorsFile,
  layers: readonly AdaptedLayer[],
  notes: string[],
): { token?: Float32Array; lora?: ConceptTensors['lora']; rank?: number } {
  const keys = [...file.tensors.keys()];
  const name = basename(file.path);
  if (file.metadata.format === CONCEPT_FORMAT) {
    const c = readConceptTensors(file.path);
    return { ...(c.token ? { token: c.token } : {}), lora: c.lora, rank: c.rank };
  }
  // an embedding: emb_params, or a single [1, width] / [width] tensor (diffusers' learned_embeds)
  const single = keys.length === 1 ? file.tensors.get(keys[0]!)! : undefined;
  const emb =
    file.tensors.get('emb_params') ?? (single && (single.shape.length === 1 || (single.shape.length === 2 && single.shape[0] === 1)) ? single : undefined);
  if (emb) {
    if (emb.shape.length === 2 && emb.shape[0] !== 1)
      throw new AppError('unsupported-model', `${name} holds ${emb.shape[0]} vectors; a concept's token is one vector (import embeddings of one vector).`);
    return { token: readTensorAsFloat32(file, emb.name) };
  }
  return readLoraFactors(file, name, layers, notes);
}

/**
 * Makes a library concept from an embedding (and a LoRA) another tool wrote, or from a concept file.
 * Nothing is stored unless every file reads and fits SD 1.x.
 */
export async function importConcept(
  library: Library,
  paths: readonly string[],
  options: {
    classWord: string;
    name?: string;
    /** The layers the LoRA must fit: SD 1.x's by default (tests give a tiny model's). */
    layers?: readonly AdaptedLayer[];
  },
): Promise<{ conceptId: string; notes: string[] }> {
  const notes: string[] = [];
  let token: Float32Array | undefined;
  let lora: ConceptTensors['lora'] = new Map();
  let rank = 0;
  for (const path of paths) {
    const part = readForeign(readSafetensorsHeader(path), options.layers ?? layersOfSd1(), notes);
    if (part.token) {
      if (token) throw new AppError('invalid-input', 'Two embeddings were given; a concept has one token.');
      token = part.token;
    }
    if (part.lora?.size) {
      if (lora.size) throw new AppError('invalid-input', 'Two LoRAs were given; a concept has one.');
      lora = part.lora;
      rank = part.rank ?? 0;
    }
  }
  // a LoRA without an embedding is a style: it changes the whole picture, and has no token to place
  const kind = token ? 'subject' : 'style';
  if (!token && lora.size === 0) throw new AppError('invalid-input', 'No embedding or LoRA among the files.');
  if (token && token.length !== SD15_CLIP_TEXT.hiddenSize)
    throw new AppError(
      'unsupported-model',
      `The embedding is ${token.length} wide; SD 1.x's text is ${SD15_CLIP_TEXT.hiddenSize} (an SD 2.x or XL embedding?).`,
    );
  for (const [module, pair] of lora) if (!pair.A || !pair.B) throw new AppError('corrupt-file', `The LoRA has only one of the two factors of ${module}.`);
  const classWord = options.classWord.trim().toLowerCase() || (kind === 'style' ? 'style' : '');
  if (!classWord) throw new AppError('invalid-input', 'Say what the concept is (a class word: face, dog, jacket…).');
  const meta: ConceptMeta = { classWord, baseModel: 'imported', loraRank: rank };
  const file = join(library.dataDir, 'cache', `import-${process.pid}-${Date.now()}.safetensors`);
  mkdirSync(join(library.dataDir, 'cache'), { recursive: true });
  writeConceptFile(
    file,
    token ?? null,
    Object.fromEntries(
      [...lora].flatMap(([m, p]) => [
        [`${m}.lora_A.weight`, p.A!],
        [`${m}.lora_B.weight`, p.B!],
      ]),
    ),
    meta,
  );
  try {
    const name = options.name?.trim() || basename(paths[0]!).replace(/\.safetensors$/i, '');
    const concept = await library.concepts.add({ name, classWord, kind, imageId: null, maskId: null, baseModelId: null, file: readFileSync(file) });
    return { conceptId: concept.id, notes };
  } finally {
    rmSync(file, { force: true });
  }
}
