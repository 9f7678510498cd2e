// The preferences table: the user's settings for the app, each checked against the contract when read, so a
// value an older or newer app wrote that no longer fits falls back to its default instead of breaking.
import type { Database } from 'better-sqlite3';
import { type Preferences, preferencesSchema } from '../../src-preload/contract/index.js';

export class PreferencesRepo {
  constructor(private readonly db: Database) {}

  get(): Preferences {
    const rows = this.db.prepare('SELECT key, value_json FROM preferences').all() as Array<{ key: string; value_json: string }>;
    const defaults = preferencesSchema.parse({});
    const stored: Record<string, unknown> = {};
    for (const { key, value_json } of rows) {
      if (!(key in defaults)) continue;
      try {
        const value: unknown = JSON.parse(value_json);
        if (preferencesSchema.safeParse({ [key]: value }).success) stored[key] = value;
      } catch {
        // an unreadable value keeps its default
      }
    }
    return preferencesSchema.parse(stored);
  }

  set(changes: Partial<Preferences>): Preferences {
    const checked = preferencesSchema.partial().strict().parse(changes);
    const put = this.db.prepare('INSERT INTO preferences (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(checked)) if (value !== undefined) put.run(key, JSON.stringify(value));
    })();
    return this.get();
  }
}
