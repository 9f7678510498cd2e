export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  /** The first sentence of a long message, shown until the person asks for the rest; null when the text is short. */
  summary: string | null;
}

/** Longer messages show their first sentence (or, if that is long too, their start), with the rest a click away. */
const LONG = 160;
const LONGEST_SENTENCE = 240;

export function summaryOf(text: string): string | null {
  if (text.length <= LONG) return null;
  const sentence = /^.{20,}?[.!?](?=\s)/s.exec(text)?.[0];
  return sentence && sentence.length <= LONGEST_SENTENCE ? sentence : `${text.slice(0, LONG - 1).trimEnd()}…`;
}

/** Short messages at the corner of the window; errors stay until dismissed, others leave after 5 s. */
export class Notifications {
  #items = $state<Toast[]>([]);
  #expanded = $state.raw<ReadonlySet<number>>(new Set());
  private nextId = 1;

  get items(): Toast[] {
    return this.#items;
  }

  isExpanded(id: number): boolean {
    return this.#expanded.has(id);
  }

  push(kind: Toast['kind'], text: string): void {
    const id = this.nextId++;
    this.#items = [...this.#items, { id, kind, text, summary: summaryOf(text) }];
    if (kind !== 'error') setTimeout(() => this.dismiss(id), 5000);
  }

  /** Shows or hides the whole of a long message. */
  toggleDetails(id: number): void {
    const next = new Set(this.#expanded);
    if (!next.delete(id)) next.add(id);
    this.#expanded = next;
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((t) => t.id !== id);
    if (this.#expanded.has(id)) this.toggleDetails(id);
  }
}

export const notifications = new Notifications();
