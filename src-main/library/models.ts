// The models table: the checkpoints and encoders registered on this machine (in place or copied into the library).
import type { Database } from 'better-sqlite3';
import type { ModelRecord } from '../../src-preload/contract/index.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';

interface ModelRow {
  id: string;
  family: string;
  format: string;
  name: string;
  path: string;
  managed: number;
  sha256: string | null;
  size_bytes: number;
  source_url: string | null;
  installed_at: string;
}

const toModel = (r: ModelRow): ModelRecord => ({
  id: r.id,
  family: r.family,
  format: r.format,
  name: r.name,
  path: r.path,
  managed: r.managed === 1,
  sha256: r.sha256,
  sizeBytes: r.size_bytes,
  sourceUrl: r.source_url,
  installedAt: r.installed_at,
});

export class Models {
  constructor(private readonly db: Database) {}

  add(input: Omit<ModelRecord, 'id' | 'installedAt'>): ModelRecord {
    const record: ModelRecord = { ...input, id: newId('mod'), installedAt: new Date().toISOString() };
    this.db
      .prepare(
        `INSERT INTO models (id, family, name, format, path, managed, sha256, size_bytes, source_url, installed_at)
         VALUES (@id, @family, @name, @format, @path, @managed, @sha256, @sizeBytes, @sourceUrl, @installedAt)`,
      )
      .run({ ...record, managed: record.managed ? 1 : 0 });
    return record;
  }

  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY installed_at DESC, id').all() as ModelRow[]).map(toModel);
  }

  get(idOrName: string): ModelRecord {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ? OR name = ? ORDER BY installed_at DESC LIMIT 1').get(idOrName, idOrName) as
      ModelRow | undefined;
    if (!row) throw new AppError('not-found', `No installed model ${idOrName} (see \`singleinsert models list\`).`);
    return toModel(row);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
  }
}
