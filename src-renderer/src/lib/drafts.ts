// Work not saved yet (the Compose form, a mask being edited, the training form), kept per screen and per
// photo so that a screen change or a reload loses nothing: in this page's memory always, and in the
// browser's storage when it fits there (a reload then finds it too).
import type { z } from 'zod';

const PREFIX = 'singleinsert.draft.';
/** Raised when a draft's shape changes: older drafts are then dropped, not misread. */
const VERSION = 1;

export interface Draft<T> {
  value: T;
  savedAt: string;
}

interface Stored {
  v: number;
  savedAt: string;
  value: unknown;
}

const memory = new Map<string, Stored>();

/** The draft under `key`, if one is kept and still reads as `schema` says. */
export function readDraft<T>(key: string, schema: z.ZodType<T>): Draft<T> | null {
  let stored = memory.get(key) ?? null;
  if (!stored) {
    try {
      const raw = localStorage.getItem(PREFIX + key);
      stored = raw ? (JSON.parse(raw) as Stored) : null;
    } catch {
      stored = null;
    }
  }
  if (!stored || stored.v !== VERSION) return null;
  const parsed = schema.safeParse(stored.value);
  return parsed.success ? { value: parsed.data, savedAt: stored.savedAt } : null;
}

/** Keeps a draft; `persisted` is false when only this page holds it (the storage is full or off). */
export function writeDraft(key: string, value: unknown): { persisted: boolean } {
  const stored: Stored = { v: VERSION, savedAt: new Date().toISOString(), value };
  memory.set(key, stored);
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(stored));
    return { persisted: true };
  } catch {
    try {
      localStorage.removeItem(PREFIX + key); // an older copy must not come back after a reload
    } catch {
      // no storage at all
    }
    return { persisted: false };
  }
}

export function clearDraft(key: string): void {
  memory.delete(key);
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    // no storage: the memory copy was the only one
  }
}
