// BERT's WordPiece tokenizer (lower case, accents stripped, punctuation split), as GroundingDINO's text side uses.

export class WordPieceTokenizer {
  private readonly vocab: Map<string, number>;

  constructor(vocab: Record<string, number>) {
    this.vocab = new Map(Object.entries(vocab));
  }

  /** From a Hugging Face tokenizer.json (WordPiece model). */
  static fromTokenizerJson(json: string): WordPieceTokenizer {
    const parsed = JSON.parse(json) as { model?: { type?: string; vocab?: Record<string, number> } };
    if (!parsed.model?.vocab || (parsed.model.type && parsed.model.type !== 'WordPiece'))
      throw new Error('tokenizer.json does not hold a WordPiece vocabulary');
    return new WordPieceTokenizer(parsed.model.vocab);
  }

  id(token: string): number {
    return this.vocab.get(token) ?? this.vocab.get('[UNK]') ?? 100;
  }

  /** Word pieces of a text, without [CLS]/[SEP]. */
  tokenize(text: string): string[] {
    const words = text
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .split(/\s+/)
      .flatMap((w) => w.split(/([\p{P}\p{S}])/u))
      .filter(Boolean);
    return words.flatMap((w) => this.pieces(w));
  }

  /** [CLS] text [SEP] ids. */
  encode(text: string): number[] {
    return [this.id('[CLS]'), ...this.tokenize(text).map((t) => this.id(t)), this.id('[SEP]')];
  }

  private pieces(word: string): string[] {
    if (word.length > 100) return ['[UNK]'];
    const out: string[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let piece: string | null = null;
      while (start < end) {
        const candidate = (start > 0 ? '##' : '') + word.slice(start, end);
        if (this.vocab.has(candidate)) {
          piece = candidate;
          break;
        }
        end--;
      }
      if (!piece) return ['[UNK]'];
      out.push(piece);
      start = end;
    }
    return out;
  }
}
