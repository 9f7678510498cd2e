import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, CONTEXT_LENGTH } from '../../../src-main/tokenizer/clip-tokenizer.js';
import { SHARED_FIXTURES } from '../../helpers/fixtures.js';

const MERGES = join(SHARED_FIXTURES, 'clip', 'bpe_simple_vocab_16e6.txt.gz');
const tokenizer = ClipTokenizer.fromMergesFile(MERGES);
const real = (text: string, placeholders: string[] = []) => {
  const e = tokenizer.encode(text, placeholders);
  return e.ids.slice(0, e.length);
};

describe('CLIP tokenizer (SD 1.x)', () => {
  it('has the SD 1.x vocabulary of 49,408 tokens', () => {
    expect(tokenizer.vocabSize).toBe(49408);
    expect([tokenizer.startId, tokenizer.endId]).toEqual([49406, 49407]);
  });

  it('gives the ids Stable Diffusion uses for known prompts', () => {
    // ids as printed by the reference CLIPTokenizer for these prompts
    expect(real('a photo of an astronaut riding a horse on mars')).toEqual([49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407]);
    expect(real('A Photo of a Cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(real('a dog')).toEqual([49406, 320, 1929, 49407]);
  });

  it('lower-cases, collapses whitespace, unescapes HTML and splits punctuation and digits like CLIP', () => {
    expect(real('  A   photo\n\tof a   DOG ')).toEqual(real('a photo of a dog'));
    expect(real('salt &amp; pepper')).toEqual(real('salt & pepper'));
    expect(tokenizer.tokenize("it's 2024!!")).toEqual(['it</w>', "'s</w>", '2</w>', '0</w>', '2</w>', '4</w>', '!!</w>']);
  });

  it('falls back to bytes for any text, and decodes back', () => {
    for (const text of ['héllo wörld', 'a 🤗 emoji', '東京の写真']) {
      const e = tokenizer.encode(text);
      expect(e.ids.every((id) => id >= 0 && id < 49408)).toBe(true);
      expect(tokenizer.decode(e.ids)).toBe(text.toLowerCase());
    }
  });

  it('pads to 77 with the end token and truncates long prompts, keeping the end token', () => {
    const short = tokenizer.encode('a dog');
    expect(short.ids).toHaveLength(CONTEXT_LENGTH);
    expect(short.ids.slice(4)).toEqual(new Array(73).fill(49407));
    const long = tokenizer.encode(Array(100).fill('dog').join(' '));
    expect(long.truncated).toBe(true);
    expect(long.length).toBe(77);
    expect(long.ids[76]).toBe(49407);
    expect(long.ids.slice(1, 76).every((id) => id === 1929)).toBe(true);
  });

  it('keeps placeholder words as one token each and reports where they are', () => {
    const e = tokenizer.encode('* face with *2 hair, wearing *3 clothes', ['*', '*2', '*3']);
    expect(e.placeholders).toEqual([
      { position: 1, placeholder: '*' },
      { position: 4, placeholder: '*2' },
      { position: 8, placeholder: '*3' },
    ]);
    // the other tokens are those of the same prompt with plain words in the placeholders' places
    const others = (ids: number[]) => ids.filter((_, i) => ![1, 4, 8].includes(i));
    expect(others(real('* face with *2 hair, wearing *3 clothes', ['*', '*2', '*3']))).toEqual(others(real('x face with x hair, wearing x clothes')));
    // a star inside a word is not a placeholder
    expect(tokenizer.encode('a*b', ['*']).placeholders).toEqual([]);
  });

  it('reads a model folder’s vocab.json + merges.txt the same way', () => {
    const text = gunzipSync(readFileSync(MERGES)).toString('utf8');
    const lines = text.split('\n');
    const merges = ['#version: 0.2', ...lines.slice(1, 1 + 48894)].join('\n');
    const vocab: Record<string, number> = {};
    const probe = ClipTokenizer.fromMergesFile(MERGES);
    for (let id = 0; id < 49408; id++) vocab[probe.decodeToken(id)] = id;
    const fromFolder = ClipTokenizer.fromVocabAndMerges(JSON.stringify(vocab), merges);
    for (const p of ['a photo of an astronaut riding a horse on mars', 'héllo 🤗', '* face as a marble statue']) {
      expect(fromFolder.encode(p, ['*']).ids).toEqual(tokenizer.encode(p, ['*']).ids);
    }
  });
});
