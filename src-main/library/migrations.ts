import type { Database } from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../common/app-error.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE_PATTERN = /^(\d{4})-([a-z0-9-]+)\.sql$/;

/** Reads migrations/NNNN-name.sql in order; numbers must run 1, 2, 3… without gaps. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_PATTERN.exec(file) }))
    .filter((m): m is { file: string; match: RegExpExecArray } => m.match !== null)
    .map(({ file, match }) => ({ version: Number(match[1]), name: match[2]!, sql: readFileSync(`${dir}/${file}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration numbering has a gap or duplicate at ${m.version}-${m.name}`);
  });
  return migrations;
}

/**
 * Applies every pending migration in one transaction: the schema is either fully upgraded or untouched.
 * The version is read under the write lock, so two processes opening a new library at once migrate it once.
 */
export function migrate(db: Database, migrations: Migration[] = loadMigrations()): { from: number; to: number } {
  const latest = migrations.length;
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const refuseNewer = (from: number) => {
    if (from > latest) {
      throw new AppError(
        'conflict',
        `This library was written by a newer SingleInsert Studio (schema ${from}, this app knows ${latest}). Update the app to open it.`,
      );
    }
  };
  const seen = version();
  refuseNewer(seen);
  if (seen === latest) return { from: seen, to: seen };
  return db
    .transaction(() => {
      const from = version();
      refuseNewer(from);
      for (const m of migrations.slice(from)) db.exec(m.sql);
      db.pragma(`user_version = ${latest}`);
      return { from, to: latest };
    })
    .immediate();
}
