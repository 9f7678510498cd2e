// The concepts table: learned or imported concepts, each with its file (token embedding and LoRA) in the store.
import type { Database } from 'better-sqlite3';
import type { ConceptRecord } from '../../src-preload/contract/index.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { Blobs } from './blobs.js';
import type { Images } from './images.js';

interface ConceptRow {
  id: string;
  name: string;
  class_word: string;
  token: string;
  kind: ConceptRecord['kind'];
  image_id: string | null;
  mask_id: string | null;
  base_model_id: string | null;
  status: ConceptRecord['status'];
  thumb_sha256: string | null;
  notes: string;
  tags_json: string;
  created_at: string;
}

const toConcept = (r: ConceptRow): ConceptRecord => ({
  id: r.id,
  name: r.name,
  classWord: r.class_word,
  token: r.token,
  kind: r.kind,
  imageId: r.image_id,
  maskId: r.mask_id,
  baseModelId: r.base_model_id,
  status: r.status,
  thumbSha256: r.thumb_sha256,
  notes: r.notes,
  tags: JSON.parse(r.tags_json) as string[],
  createdAt: r.created_at,
});

export class Concepts {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
    private readonly images: Images,
  ) {}

  list(): ConceptRecord[] {
    return (this.db.prepare('SELECT * FROM concepts ORDER BY created_at DESC, id').all() as ConceptRow[]).map(toConcept);
  }

  get(id: string): ConceptRecord {
    const row = this.db.prepare('SELECT * FROM concepts WHERE id = ?').get(id) as ConceptRow | undefined;
    if (!row) throw new AppError('not-found', `No concept ${id} in the library (see \`singleinsert library list\`).`);
    return toConcept(row);
  }

  /**
   * Stores a learned concept (its file holds the token embedding and the LoRA) as ready to use.
   * `alongside` runs in the same transaction as the rows (a run's "succeeded" with its concept: a crash
   * leaves both or neither, so a resumed run never makes the concept twice).
   */
  async add(
    input: {
      name: string;
      classWord: string;
      imageId: string | null;
      maskId: string | null;
      baseModelId: string | null;
      file: Buffer;
      /** 'style': a LoRA without a token (default 'subject'). */
      kind?: ConceptRecord['kind'];
      /** A WebP image drawn with the concept; the photo's thumbnail stands in without one. */
      thumb?: Buffer | null;
    },
    alongside?: (conceptId: string) => void,
  ): Promise<ConceptRecord> {
    const { sha256, size } = await this.blobs.store.put(input.file);
    const drawn = input.thumb ? await this.blobs.store.put(input.thumb) : null;
    const id = newId('con');
    const now = new Date().toISOString();
    const thumb = drawn?.sha256 ?? (input.imageId ? this.images.get(input.imageId).thumbSha256 : null);
    this.db.transaction(() => {
      this.blobs.insert({ sha256, size, mime: 'application/vnd.singleinsert.concept' }, now);
      if (drawn) this.blobs.insert({ ...drawn, mime: 'image/webp' }, now);
      this.db
        .prepare(
          `INSERT INTO concepts (id, name, class_word, token, kind, image_id, mask_id, base_model_id, status, embedding_sha256, lora_sha256, thumb_sha256, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?, ?)`,
        )
        .run(id, input.name, input.classWord, id, input.kind ?? 'subject', input.imageId, input.maskId, input.baseModelId, sha256, sha256, thumb, now);
      alongside?.(id);
    })();
    return this.get(id);
  }

  /** What a person edits in the concept's detail view; tags are kept trimmed, unique and sorted. */
  update(id: string, changes: { name?: string; notes?: string; tags?: string[] }): ConceptRecord {
    this.get(id);
    if (changes.name !== undefined) this.db.prepare('UPDATE concepts SET name = ? WHERE id = ?').run(changes.name, id);
    if (changes.notes !== undefined) this.db.prepare('UPDATE concepts SET notes = ? WHERE id = ?').run(changes.notes, id);
    if (changes.tags !== undefined) {
      const tags = [...new Set(changes.tags.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();
      this.db.prepare('UPDATE concepts SET tags_json = ? WHERE id = ?').run(JSON.stringify(tags), id);
    }
    return this.get(id);
  }

  /** The concept's file (token embedding + LoRA) path in the store. */
  filePath(id: string): string {
    const row = this.db.prepare('SELECT lora_sha256 FROM concepts WHERE id = ?').get(id) as { lora_sha256: string | null } | undefined;
    if (!row) throw new AppError('not-found', `No concept ${id} in the library (see \`singleinsert library list\`).`);
    if (!row.lora_sha256) throw new AppError('unavailable', `Concept ${id} has not finished learning.`);
    return this.blobs.store.pathOf(row.lora_sha256);
  }

  async delete(id: string): Promise<{ removedFiles: number }> {
    this.get(id);
    return this.blobs.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM concepts WHERE id = ?').run(id));
  }
}
