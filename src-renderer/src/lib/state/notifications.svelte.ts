// Short messages: shown in the sidebar (where they cover nothing of a screen), leaving on their own,
// each kept in the notification list. A message belongs to the screen that raised it and goes when the
// person leaves that screen; job results belong to no screen and follow the person.
export type ToastKind = 'info' | 'success' | 'error';

/** A link a message offers (the next step: "Open in the Gallery"). */
export interface ToastAction {
  label: string;
  href: string;
}

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
  /** The first sentence of a long message, shown until the person asks for the rest; null when the text is short. */
  summary: string | null;
  /** The screen that raised it (null: any screen, as a job's result). */
  screen: string | null;
  action: ToastAction | null;
  at: Date;
}

export interface PushOptions {
  action?: ToastAction;
  /** null: shown on every screen (a job's result); by default the screen on show. */
  screen?: string | null;
}

/** Longer messages show their first sentence (or, if that is long too, their start), with the rest a click away. */
const LONG = 140;
const LONGEST_SENTENCE = 200;
/** How long a message stays on show; errors longer, and every message stays in the list. */
export const TOAST_LIFETIME_MS: Record<ToastKind, number> = { info: 5000, success: 6000, error: 12000 };
const LOG_SIZE = 50;

export function summaryOf(text: string): string | null {
  if (text.length <= LONG) return null;
  const sentence = /^.{20,}?[.!?](?=\s)/s.exec(text)?.[0];
  return sentence && sentence.length <= LONGEST_SENTENCE ? sentence : `${text.slice(0, LONG - 1).trimEnd()}…`;
}

export class Notifications {
  #items = $state.raw<Toast[]>([]);
  #log = $state.raw<Toast[]>([]);
  #unread = $state(0);
  #expanded = $state.raw<ReadonlySet<number>>(new Set());
  #screen: string | null = null;
  private nextId = 1;

  /** The messages on show now. */
  get items(): Toast[] {
    return this.#items;
  }
  /** Every recent message, newest first (the notification list). */
  get log(): Toast[] {
    return this.#log;
  }
  /** Errors that left before the person opened the list. */
  get unread(): number {
    return this.#unread;
  }

  isExpanded(id: number): boolean {
    return this.#expanded.has(id);
  }

  push(kind: ToastKind, text: string, options: PushOptions = {}): void {
    const toast: Toast = {
      id: this.nextId++,
      kind,
      text,
      summary: summaryOf(text),
      screen: options.screen === undefined ? this.#screen : options.screen,
      action: options.action ?? null,
      at: new Date(),
    };
    this.#items = [...this.#items, toast];
    this.#log = [toast, ...this.#log].slice(0, LOG_SIZE);
    this.#expire(toast);
  }

  /** The person is on `screen` now: the messages other screens raised leave (they stay in the list). */
  showScreen(screen: string): void {
    this.#screen = screen;
    for (const t of this.#items) if (t.screen !== null && t.screen !== screen) this.#leave(t.id);
  }

  /** Shows or hides the whole of a long message (one being read does not leave). */
  toggleDetails(id: number): void {
    const next = new Set(this.#expanded);
    if (!next.delete(id)) next.add(id);
    this.#expanded = next;
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((t) => t.id !== id);
    if (this.#expanded.has(id)) this.toggleDetails(id);
  }

  /** The list was opened: nothing is unread. */
  markRead(): void {
    this.#unread = 0;
  }

  clearLog(): void {
    this.#log = [];
    this.#unread = 0;
  }

  #expire(toast: Toast): void {
    setTimeout(() => {
      if (this.#expanded.has(toast.id)) return this.#expire(toast);
      if (this.#items.some((t) => t.id === toast.id)) this.#leave(toast.id);
    }, TOAST_LIFETIME_MS[toast.kind]);
  }

  /** Off the screen unseen to the end: an error counts as unread in the list. */
  #leave(id: number): void {
    const toast = this.#items.find((t) => t.id === id);
    if (!toast) return;
    this.dismiss(id);
    if (toast.kind === 'error') this.#unread++;
  }
}

export const notifications = new Notifications();
