// CLIP's byte-level BPE tokenizer, as Stable Diffusion 1.x uses it (77 tokens, padded with <|endoftext|>).
import { gunzipSync } from 'node:zlib';
import { readSmallFileSync } from '../common/regular-file.js';

export const START_TOKEN = '<|startoftext|>';
export const END_TOKEN = '<|endoftext|>';
export const CONTEXT_LENGTH = 77;
/** SD 1.x's vocabulary uses the first 48,894 merges of CLIP's list. */
const MERGE_COUNT = 49152 - 256 - 2;

// CLIP's pre-tokenizer: special tokens, English contractions, letter runs, single digits, other non-space runs.
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/**
 * The reversible byte → printable-character table of GPT-2/CLIP, in CLIP's order:
 * printable bytes first, then the others (the vocabulary's first 256 ids follow this order).
 */
function byteTable(): Array<{ byte: number; char: string }> {
  const printable: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) printable.push(b);
  for (let b = '¡'.charCodeAt(0); b <= '¬'.charCodeAt(0); b++) printable.push(b);
  for (let b = '®'.charCodeAt(0); b <= 'ÿ'.charCodeAt(0); b++) printable.push(b);
  const table = printable.map((b) => ({ byte: b, char: String.fromCharCode(b) }));
  let extra = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) table.push({ byte: b, char: String.fromCharCode(256 + extra++) });
  return table;
}

/** byte value → its character. */
function bytesToUnicode(): string[] {
  const byChar = new Array<string>(256);
  for (const { byte, char } of byteTable()) byChar[byte] = char;
  return byChar;
}

export interface Encoded {
  /** CONTEXT_LENGTH ids: start, tokens, end, then end-token padding. */
  ids: number[];
  /** How many ids are real (start + tokens + end). */
  length: number;
  /** Where each placeholder word landed: token position and the placeholder it was. */
  placeholders: Array<{ position: number; placeholder: string }>;
  truncated: boolean;
}

export class ClipTokenizer {
  private readonly byteEncoder = bytesToUnicode();
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();
  private readonly decoder: Map<number, string>;
  readonly startId: number;
  readonly endId: number;

  constructor(
    private readonly encoder: Map<string, number>,
    merges: ReadonlyArray<[string, string]>,
  ) {
    this.ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
    this.decoder = new Map([...encoder].map(([t, i]) => [i, t]));
    this.startId = this.id(START_TOKEN);
    this.endId = this.id(END_TOKEN);
  }

  /** From CLIP's bpe_simple_vocab_16e6.txt(.gz): the vocabulary is derived from the merges. */
  static fromMergesFile(path: string): ClipTokenizer {
    const raw = readSmallFileSync(path, 32 << 20, 'a BPE merges file');
    const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const merges = parseMerges(text).slice(0, MERGE_COUNT);
    const base = byteTable().map((e) => e.char);
    const vocab = [...base, ...base.map((c) => `${c}</w>`), ...merges.map(([a, b]) => a + b), START_TOKEN, END_TOKEN];
    return new ClipTokenizer(new Map(vocab.map((t, i) => [t, i])), merges);
  }

  /** From a model's tokenizer/ folder files (vocab.json + merges.txt), as diffusers ships them. */
  static fromVocabAndMerges(vocabJson: string, mergesTxt: string): ClipTokenizer {
    const vocab = JSON.parse(vocabJson) as unknown;
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab) || !Object.values(vocab).every((id) => Number.isInteger(id))) {
      throw new Error('the vocabulary is not an object of token → id');
    }
    return new ClipTokenizer(new Map(Object.entries(vocab as Record<string, number>)), parseMerges(mergesTxt));
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  id(token: string): number {
    const id = this.encoder.get(token);
    if (id === undefined) throw new Error(`Token ${token} is not in the vocabulary`);
    return id;
  }

  /** Token strings (BPE pieces) of a text, without start/end. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const match of clean(text).matchAll(PATTERN)) {
      const bytes = new TextEncoder().encode(match[0]);
      const word = Array.from(bytes, (b) => this.byteEncoder[b]!).join('');
      out.push(...this.bpe(word));
    }
    return out;
  }

  /**
   * Ids for SD's text encoder. Words listed in `placeholders` (such as "*" or "*2") are kept
   * as one token each, and their positions reported so an embedding can be put there at run time.
   */
  encode(text: string, placeholders: readonly string[] = []): Encoded {
    const ids: number[] = [this.startId];
    const found: Encoded['placeholders'] = [];
    const marks = [...placeholders].sort((a, b) => b.length - a.length);
    const parts = marks.length ? splitKeeping(text, marks) : [text];
    let truncated = false;
    for (const part of parts) {
      const pieces = marks.includes(part) ? [part] : this.tokenize(part);
      for (const piece of pieces) {
        if (ids.length >= CONTEXT_LENGTH - 1) {
          truncated = true;
          break;
        }
        if (marks.includes(piece)) {
          found.push({ position: ids.length, placeholder: piece });
          ids.push(this.endId); // any id: the row is replaced before the encoder sees it
        } else {
          ids.push(this.id(piece));
        }
      }
    }
    ids.push(this.endId);
    const length = ids.length;
    while (ids.length < CONTEXT_LENGTH) ids.push(this.endId);
    return { ids, length, placeholders: found, truncated };
  }

  /** The vocabulary entry of one id (a BPE piece such as "dog</w>"). */
  decodeToken(id: number): string {
    const token = this.decoder.get(id);
    if (token === undefined) throw new Error(`Id ${id} is not in the vocabulary`);
    return token;
  }

  decode(ids: readonly number[]): string {
    const decoder = this.decoder;
    const byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
    const text = ids
      .filter((i) => i !== this.startId && i !== this.endId)
      .map((i) => decoder.get(i) ?? '')
      .join('');
    const bytes = Uint8Array.from([...text.replace(/<\/w>/g, ' ')].map((c) => (c === ' ' ? 32 : (byteDecoder.get(c) ?? 63))));
    return new TextDecoder().decode(bytes).trim();
  }

  private bpe(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const chars = [...word];
    let parts = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const rank = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [parts[best]!, parts[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]!);
      }
      parts = merged;
    }
    if (this.cache.size < 10_000) this.cache.set(word, parts);
    return parts;
  }
}

function parseMerges(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const [a, b] = l.split(' ');
      return [a!, b!] as [string, string];
    });
}

/** CLIP's basic cleaning: HTML entities, whitespace collapsed, lower case. */
function clean(text: string): string {
  const unescaped = text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!);
  return unescaped.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Splits text around placeholder words (whole words only), keeping them as parts. */
function splitKeeping(text: string, marks: readonly string[]): string[] {
  const escaped = marks.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(?<=^|\\s)(${escaped.join('|')})(?=$|\\s|[,.;:!?])`, 'g');
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    parts.push(m[1]!);
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
