// Prompt encoding with concepts: each concept's token goes in at its placeholder ("*", "*2"…) through
// the text encoder's placeholder input, its LoRA rides on the text encoder; the negative prompt is the
// unconditional half of classifier-free guidance. Also says which prompt tokens each concept owns.
import { AppError } from '../../common/app-error.js';
import type { FloatDType } from '../../graph/dtype.js';
import { Graph } from '../../graph/graph.js';
import * as op from '../../graph/ops/index.js';
import type { HostTensor } from '../../graph/runtime/session.js';
import { clipTextEncoder } from '../../models/clip-text.js';
import type { LoraAdapter } from '../../models/lora.js';
import { weightsFrom } from '../../models/params.js';
import type { StableDiffusionModel } from '../../weights/sd-model.js';
import type { LoadedConcept } from './concept-file.js';
import type { SessionLoader } from './sessions.js';

export const TOKENS = 77;

/** A concept as a prompt uses it: behind its placeholder word, its LoRA at `scale`. */
export interface PromptConcept {
  placeholder: string;
  concept: LoadedConcept;
  /** LoRA strength (1: as learned; 0: the token alone). */
  scale?: number;
  /** false: its placeholder is dropped from the prompt ("* face" reads "face"); its LoRA alone acts. A style concept has no token: always false. */
  useToken?: boolean;
}

export interface EncodedPrompt {
  /** [2, 77, d]: the negative prompt's hidden states, then the prompt's. */
  hidden: Float32Array;
  /** Per concept (in order), the prompt token positions it owns: its placeholder and its class word right after it. */
  owned: number[][];
}

export const usesToken = (c: PromptConcept) => c.useToken !== false && c.concept.token !== null;

/** Checks that concepts fit the model and the prompt, and which tokens each owns. */
export function conceptTokens(
  model: StableDiffusionModel,
  prompt: string,
  concepts: readonly PromptConcept[],
): { ids: number[]; placed: number[][]; owned: number[][] } {
  const hidden = model.textEncoder.config.hiddenSize;
  const encoded = model.tokenizer.encode(
    prompt,
    concepts.map((c) => c.placeholder),
  );
  const placed: number[][] = [];
  const owned = concepts.map((c) => {
    if (c.concept.token && c.concept.token.length !== hidden)
      throw new AppError(
        'unsupported-model',
        `Concept ${c.placeholder} was learned on a model with ${c.concept.token.length}-wide text, this one is ${hidden}.`,
      );
    const at = encoded.placeholders.filter((e) => e.placeholder === c.placeholder).map((e) => e.position);
    // a style acts on the whole picture: its placeholder may be left out of the prompt
    if (!at.length && c.concept.token)
      throw new AppError(
        'invalid-input',
        `The prompt does not use ${c.placeholder}; write it where the concept goes ("${c.placeholder} ${c.concept.meta.classWord} …").`,
      );
    placed.push(at);
    // the class word right after the placeholder ("* face") belongs to the concept too
    const word = model.tokenizer.encode(c.concept.meta.classWord);
    const classIds = word.ids.slice(1, word.length - 1);
    const positions: number[] = [];
    for (const p of at) {
      positions.push(p);
      if (classIds.length && classIds.every((id, k) => encoded.ids[p + 1 + k] === id)) for (let k = 0; k < classIds.length; k++) positions.push(p + 1 + k);
    }
    return positions;
  });
  // a concept without its token: its placeholder goes, the tokens after it move up one
  const dropped = concepts.flatMap((c, j) => (!usesToken(c) ? placed[j]! : [])).sort((a, b) => b - a);
  const ids = [...encoded.ids];
  for (const at of dropped) {
    ids.splice(at, 1);
    ids.push(model.tokenizer.endId);
    const shift = (positions: number[]) => positions.filter((p) => p !== at).map((p) => (p > at ? p - 1 : p));
    for (let j = 0; j < concepts.length; j++) {
      placed[j] = shift(placed[j]!);
      owned[j] = shift(owned[j]!);
    }
  }
  return { ids, placed, owned };
}

/** Encodes [negative, prompt] with the concepts' tokens in place and their text-encoder LoRAs. */
export async function encodePrompt(
  model: StableDiffusionModel,
  input: { prompt: string; negative: string; concepts: readonly PromptConcept[]; adapters: readonly LoraAdapter[] },
  load: SessionLoader,
  dtype: FloatDType,
): Promise<EncodedPrompt> {
  const text = model.textEncoder.config;
  const d = text.hiddenSize;
  const { ids, placed, owned } = conceptTokens(model, input.prompt, input.concepts);
  const p = input.concepts.length;
  const g = new Graph('text_encoder');
  const inputIds = g.input('input_ids', 'int64', [2, TOKENS]);
  const placeholders = p
    ? {
        embeds: op.cast(g.input('placeholder_embeds', 'float32', [2, p, d]), dtype),
        mask: op.cast(g.input('placeholder_mask', 'float32', [2, TOKENS, p]), dtype),
      }
    : undefined;
  g.output(
    op.cast(
      clipTextEncoder(weightsFrom(g, model.textEncoder.source, { dtype, adapters: input.adapters }), text, {
        inputIds,
        ...(placeholders ? { placeholders } : {}),
      }),
      'float32',
    ),
    'hidden',
  );
  const feeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', shape: [2, TOKENS], data: BigInt64Array.from([...model.tokenizer.encode(input.negative).ids, ...ids].map(BigInt)) },
  };
  if (p) {
    const embeds = new Float32Array(2 * p * d);
    const mask = new Float32Array(2 * TOKENS * p);
    input.concepts.forEach((c, k) => {
      if (c.concept.token) embeds.set(c.concept.token, (p + k) * d); // the prompt row; the negative row stays zero
      for (const at of placed[k]!) mask[TOKENS * p + at * p + k] = 1;
    });
    feeds.placeholder_embeds = { dtype: 'float32', shape: [2, p, d], data: embeds };
    feeds.placeholder_mask = { dtype: 'float32', shape: [2, TOKENS, p], data: mask };
  }
  const session = await load(g);
  try {
    const out = await session.run(feeds);
    return { hidden: Float32Array.from(out.hidden!.data as Float32Array), owned };
  } finally {
    await session.release();
  }
}
