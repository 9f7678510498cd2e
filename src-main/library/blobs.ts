// The blobs table, which counts what the content store holds, and the order that keeps rows and files in step:
// files are written before the rows that point at them, and removed only after those rows are gone.
import type { Database } from 'better-sqlite3';
import type { FileStore } from './file-store.js';

export interface StoredFile {
  sha256: string;
  size: number;
  mime: string;
}

export class Blobs {
  constructor(
    private readonly db: Database,
    readonly store: FileStore,
  ) {}

  /** Records a stored file (inside the caller's transaction, with the row that points at it). */
  insert(file: StoredFile, now: string): void {
    this.db
      .prepare('INSERT INTO blobs (sha256, size, mime, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING')
      .run(file.sha256, file.size, file.mime, now);
  }

  /** Blob rows nothing points at any more, removed; their hashes. */
  dropUnreferenced(): string[] {
    const rows = this.db.prepare('DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM blob_refs) RETURNING sha256').all() as Array<{ sha256: string }>;
    return rows.map((r) => r.sha256);
  }

  /** Rows go first, in one transaction with their blob rows; files follow. A crash in between leaves only orphan files, which reconcile() removes. */
  async deleteRowsThenFiles(deleteRows: () => unknown): Promise<{ removedFiles: number }> {
    const freed = this.db.transaction(() => {
      deleteRows();
      return this.dropUnreferenced();
    })();
    for (const sha of freed) await this.store.remove(sha);
    return { removedFiles: freed.length };
  }
}
