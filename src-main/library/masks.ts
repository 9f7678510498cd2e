// The masks table: every save is a new version for its image and class word; old versions are kept.
import type { Database } from 'better-sqlite3';
import type { MaskRecord } from '../../src-preload/contract/index.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { Blobs } from './blobs.js';
import type { Images } from './images.js';

export class Masks {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
    private readonly images: Images,
  ) {}

  async save(input: { imageId: string; classWord: string; png: Buffer; source: 'auto' | 'sam' | 'manual' }): Promise<MaskRecord> {
    this.images.get(input.imageId);
    const classWord = input.classWord.trim().toLowerCase();
    if (!classWord) throw new AppError('invalid-input', 'A mask needs a class word (face, hair, dog…).');
    const { sha256, size } = await this.blobs.store.put(input.png);
    const id = newId('msk');
    const now = new Date().toISOString();
    const version = this.db
      .transaction(() => {
        this.blobs.insert({ sha256, size, mime: 'image/png' }, now);
        const next = (
          this.db.prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM masks WHERE image_id = ? AND class_word = ?').get(input.imageId, classWord) as {
            v: number;
          }
        ).v;
        this.db
          .prepare('INSERT INTO masks (id, image_id, class_word, version, sha256, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(id, input.imageId, classWord, next, sha256, input.source, now);
        return next;
      })
      .immediate();
    return { id, imageId: input.imageId, classWord, version, sha256, source: input.source, createdAt: now };
  }

  list(imageId: string): MaskRecord[] {
    return this.db
      .prepare(
        'SELECT id, image_id AS imageId, class_word AS classWord, version, sha256, source, created_at AS createdAt FROM masks WHERE image_id = ? ORDER BY class_word, version DESC',
      )
      .all(imageId) as MaskRecord[];
  }

  get(id: string): MaskRecord {
    const row = this.db
      .prepare('SELECT id, image_id AS imageId, class_word AS classWord, version, sha256, source, created_at AS createdAt FROM masks WHERE id = ?')
      .get(id) as MaskRecord | undefined;
    if (!row) throw new AppError('not-found', `No mask ${id}.`);
    return row;
  }
}
