// A concept on disk: one .safetensors file with the token embedding `*` and its LoRA. A style concept
// (a LoRA imported from another tool) has the LoRA alone.
import { AppError } from '../../common/app-error.js';
import type { WeightSource } from '../../models/params.js';
import { readSafetensorsHeader, readTensorAsFloat32, type SafetensorsFile, type TensorToWrite, writeSafetensors } from '../../weights/safetensors.js';
import { SafetensorsSource } from '../../weights/sources.js';

export const CONCEPT_FORMAT = 'singleinsert-concept/1';
const TOKEN_KEY = 'token_embedding';

export interface ConceptMeta {
  classWord: string;
  /** sha256 of the SD model it was learned on (LoRA only fits that base). */
  baseModel: string;
  loraRank: number;
}

export interface LoadedConcept {
  meta: ConceptMeta;
  /** null for a style concept: no token, its LoRA alone acts. */
  token: Float32Array | null;
  /** The LoRA weights, by `<module>.lora_A/B.weight` name. */
  lora: WeightSource;
}

export function writeConceptFile(
  path: string,
  token: Float32Array | null,
  lora: Record<string, { shape: number[]; data: Float32Array }>,
  meta: ConceptMeta,
): void {
  if (!token && Object.keys(lora).length === 0) throw new AppError('invalid-input', 'A concept needs a token, a LoRA or both.');
  const tensors: Record<string, TensorToWrite> = token ? { [TOKEN_KEY]: { dtype: 'F32', shape: [token.length], data: token } } : {};
  for (const [name, t] of Object.entries(lora)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  writeSafetensors(path, tensors, { format: CONCEPT_FORMAT, class_word: meta.classWord, base_model: meta.baseModel, lora_rank: String(meta.loraRank) });
}

const isLoraKey = (key: string) => /\.lora_[AB]\.weight$/.test(key);
const tokenOf = (file: SafetensorsFile) => (file.tensors.has(TOKEN_KEY) ? readTensorAsFloat32(file, TOKEN_KEY) : null);

/** The concept file's header, checked to be one. */
function conceptHeader(path: string): SafetensorsFile {
  const file = readSafetensorsHeader(path);
  if (file.metadata.format !== CONCEPT_FORMAT) throw new AppError('corrupt-file', `${path} is not a SingleInsert concept file.`);
  if (!file.tensors.has(TOKEN_KEY) && ![...file.tensors.keys()].some(isLoraKey))
    throw new AppError('corrupt-file', `${path} holds neither a token nor a LoRA.`);
  return file;
}

/** Whether the concept carries a LoRA (learned through Stage II, or a style): which of the paper's rows it compares with. */
export const conceptHasLora = (path: string): boolean => [...conceptHeader(path).tensors.keys()].some(isLoraKey);

/** A concept's tensors as values: its token, and each adapted module's A [rank, in] and B [out, rank]. */
export interface ConceptTensors {
  /** null for a style concept. */
  token: Float32Array | null;
  lora: Map<string, { A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>;
  rank: number;
}

export function readConceptTensors(path: string): ConceptTensors {
  const file = conceptHeader(path);
  const lora: ConceptTensors['lora'] = new Map();
  for (const [key, entry] of file.tensors) {
    const m = /\.lora_([AB])\.weight$/.exec(key);
    if (!m) continue;
    const module = key.slice(0, m.index);
    const pair = lora.get(module) ?? {};
    pair[m[1] as 'A' | 'B'] = { shape: [...entry.shape], data: readTensorAsFloat32(file, key) };
    lora.set(module, pair);
  }
  return { token: tokenOf(file), lora, rank: Number(file.metadata.lora_rank ?? 0) };
}

export function readConceptFile(path: string, label: string): LoadedConcept {
  const file = conceptHeader(path);
  return {
    meta: { classWord: file.metadata.class_word ?? '', baseModel: file.metadata.base_model ?? '', loraRank: Number(file.metadata.lora_rank ?? 0) },
    token: tokenOf(file),
    lora: new SafetensorsSource(label, [file]),
  };
}
