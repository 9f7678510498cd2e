// The images table: imported photos, each stored once (by its source bytes or its normalized pixels).
import type { Database } from 'better-sqlite3';
import type { ImageRecord } from '../../src-preload/contract/index.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { Blobs, StoredFile } from './blobs.js';

export interface NewImage {
  name: string;
  sourceSha256: string;
  sourceFormat: string;
  sourceWidth: number;
  sourceHeight: number;
  image: StoredFile & { width: number; height: number };
  thumb: StoredFile;
}

interface ImageRow {
  id: string;
  sha256: string;
  source_sha256: string;
  thumb_sha256: string;
  name: string;
  source_format: string;
  width: number;
  height: number;
  source_width: number;
  source_height: number;
  bytes: number;
  created_at: string;
  /** JSON array of the class words it has saved masks under. */
  masked_as: string;
}

/** Each image with the class words of its saved masks (the photo strips mark masked photos). */
const SELECT_IMAGES = `SELECT images.*, (SELECT json_group_array(DISTINCT class_word) FROM masks WHERE masks.image_id = images.id) AS masked_as FROM images`;

const toImage = (r: ImageRow): ImageRecord => ({
  id: r.id,
  sha256: r.sha256,
  sourceSha256: r.source_sha256,
  thumbSha256: r.thumb_sha256,
  name: r.name,
  sourceFormat: r.source_format,
  width: r.width,
  height: r.height,
  sourceWidth: r.source_width,
  sourceHeight: r.source_height,
  bytes: r.bytes,
  createdAt: r.created_at,
  maskedAs: (JSON.parse(r.masked_as) as string[]).sort(),
});

export class Images {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
  ) {}

  list(): ImageRecord[] {
    return (this.db.prepare(`${SELECT_IMAGES} ORDER BY created_at DESC, id`).all() as ImageRow[]).map(toImage);
  }

  get(id: string): ImageRecord {
    const row = this.db.prepare(`${SELECT_IMAGES} WHERE id = ?`).get(id) as ImageRow | undefined;
    if (!row) throw new AppError('not-found', `No image ${id} in the library (see \`singleinsert library list\`).`);
    return toImage(row);
  }

  findBySource(sourceSha256: string): ImageRecord | undefined {
    const row = this.db.prepare(`${SELECT_IMAGES} WHERE source_sha256 = ? OR sha256 = ?`).get(sourceSha256, sourceSha256) as ImageRow | undefined;
    return row && toImage(row);
  }

  /** Stores the files, then commits the rows; returns the existing record when the same image is already there. */
  async add(input: NewImage, files: { image: Uint8Array; thumb: Uint8Array }): Promise<{ image: ImageRecord; duplicate: boolean }> {
    const existing = this.findDuplicate(input);
    if (existing) return { image: existing, duplicate: true };
    await this.blobs.store.put(files.image);
    await this.blobs.store.put(files.thumb);
    const id = newId('img');
    const now = new Date().toISOString();
    const insert = this.db.transaction(() => {
      const again = this.findDuplicate(input);
      if (again) return again;
      this.blobs.insert(input.image, now);
      this.blobs.insert(input.thumb, now);
      this.db
        .prepare(
          `INSERT INTO images (id, sha256, source_sha256, thumb_sha256, name, source_format, width, height,
             source_width, source_height, bytes, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.image.sha256,
          input.sourceSha256,
          input.thumb.sha256,
          input.name,
          input.sourceFormat,
          input.image.width,
          input.image.height,
          input.sourceWidth,
          input.sourceHeight,
          input.image.size,
          now,
        );
      return undefined;
    });
    const raced = insert.immediate();
    if (raced) return { image: raced, duplicate: true };
    return { image: this.get(id), duplicate: false };
  }

  async delete(id: string): Promise<{ removedFiles: number }> {
    this.get(id);
    return this.blobs.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM images WHERE id = ?').run(id));
  }

  private findDuplicate(input: NewImage): ImageRecord | undefined {
    return this.findBySource(input.sourceSha256) ?? this.findBySource(input.image.sha256);
  }
}
