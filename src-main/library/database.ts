import BetterSqlite3, { type Database } from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AppError } from '../common/app-error.js';
import { migrate } from './migrations.js';

/**
 * better-sqlite3 is a V8 addon, not N-API: Electron needs its own build of it.
 * `npm run fetch:electron` makes that build beside the Node one; pick it here.
 */
function nativeBinding(): string | undefined {
  if (!process.versions.electron) return undefined;
  const pkgDir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  const electronBuild = join(pkgDir, 'build-electron', 'Release', 'better_sqlite3.node');
  return existsSync(electronBuild) ? electronBuild : undefined;
}

export function openDatabase(file: string): Database {
  let db: Database;
  try {
    const binding = nativeBinding();
    db = new BetterSqlite3(file, binding ? { nativeBinding: binding } : {});
  } catch (err) {
    throw new AppError('unavailable', `Could not open the library database at ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof AppError) throw err;
    throw new AppError('unavailable', `The library database at ${file} could not be prepared: ${(err as Error).message}`, { cause: err });
  }
}
