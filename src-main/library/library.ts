import type { Database } from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ConceptRecord, ImageRecord, MaskRecord, ModelRecord } from '../../src-preload/contract/index.js';
import type { RunPreview } from '../../src-preload/contract/training.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import { openDatabase } from './database.js';
import { FileStore } from './file-store.js';
import { Compositions, Generations } from './generations.js';
import { TrainingRuns } from './training-runs.js';

export interface StoredFile {
  sha256: string;
  size: number;
  mime: string;
}

export interface NewImage {
  name: string;
  sourceSha256: string;
  sourceFormat: string;
  sourceWidth: number;
  sourceHeight: number;
  image: StoredFile & { width: number; height: number };
  thumb: StoredFile;
}

export interface GenerationRow {
  id: string;
  prompt: string;
  sha256: string;
  createdAt: string;
}

export interface ReconcileReport {
  tempFilesRemoved: number;
  orphanFilesRemoved: number;
  unreferencedRowsRemoved: number;
  missingFiles: string[];
  /** Training runs whose process had died, now shown as interrupted. */
  interruptedRuns: number;
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
}

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
});

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

/** Files written less recently than this may belong to another process's import in flight. */
const DEFAULT_ORPHAN_MIN_AGE_MS = 10 * 60 * 1000;

/**
 * The concept library: SQLite rows plus the content-addressed file store.
 * Invariant: a row only ever points at a complete file (files are written before
 * rows are committed, and removed only after the rows pointing at them are gone).
 */
export class Library {
  readonly db: Database;
  readonly store: FileStore;
  readonly runs: TrainingRuns;
  readonly generations: Generations;
  readonly compositions: Compositions;

  private constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.store = new FileStore(join(dataDir, 'store'));
    this.db = openDatabase(join(dataDir, 'library.sqlite'));
    this.runs = new TrainingRuns(this.db);
    this.generations = new Generations(this.db);
    this.compositions = new Compositions(this.db);
  }

  /** Where compiled model graphs are cached (they are rebuilt when missing). */
  graphCacheDir(): string {
    return join(this.dataDir, 'cache', 'graphs');
  }

  /** Where a training run keeps its resumable state (checkpoints), outside the content store. */
  runDir(runId: string): string {
    return join(this.dataDir, 'runs', runId);
  }

  static open(dataDir: string, options: { reconcile?: boolean } = {}): Library {
    const library = new Library(dataDir);
    if (options.reconcile ?? true) library.reconcile();
    return library;
  }

  close(): void {
    this.db.close();
  }

  // 1. Images

  listImages(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY created_at DESC, id').all() as ImageRow[]).map(toImage);
  }

  getImage(id: string): ImageRecord {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!row) throw new AppError('not-found', `No image ${id} in the library (see \`singleinsert library list\`).`);
    return toImage(row);
  }

  findImageBySource(sourceSha256: string): ImageRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM images WHERE source_sha256 = ? OR sha256 = ?')
      .get(sourceSha256, sourceSha256) as ImageRow | undefined;
    return row && toImage(row);
  }

  /** Stores the files, then commits the rows; returns the existing record when the same image is already there. */
  async addImage(input: NewImage, files: { image: Uint8Array; thumb: Uint8Array }): Promise<{ image: ImageRecord; duplicate: boolean }> {
    const existing = this.findDuplicate(input);
    if (existing) return { image: existing, duplicate: true };
    await this.store.put(files.image);
    await this.store.put(files.thumb);
    const id = newId('img');
    const now = new Date().toISOString();
    const insert = this.db.transaction(() => {
      const again = this.findDuplicate(input);
      if (again) return again;
      this.insertBlob(input.image, now);
      this.insertBlob(input.thumb, now);
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
    return { image: this.getImage(id), duplicate: false };
  }

  async deleteImage(id: string): Promise<{ removedFiles: number }> {
    this.getImage(id);
    return this.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM images WHERE id = ?').run(id));
  }

  // 2. Concepts

  listConcepts(): ConceptRecord[] {
    return (this.db.prepare('SELECT * FROM concepts ORDER BY created_at DESC, id').all() as ConceptRow[]).map(toConcept);
  }

  getConcept(id: string): ConceptRecord {
    const row = this.db.prepare('SELECT * FROM concepts WHERE id = ?').get(id) as ConceptRow | undefined;
    if (!row) throw new AppError('not-found', `No concept ${id} in the library (see \`singleinsert library list\`).`);
    return toConcept(row);
  }

  /**
   * Stores a learned concept (its file holds the token embedding and the LoRA) as ready to use.
   * `alongside` runs in the same transaction as the rows (a run's "succeeded" with its concept: a crash
   * leaves both or neither, so a resumed run never makes the concept twice).
   */
  async addConcept(
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
    const { sha256, size } = await this.store.put(input.file);
    const drawn = input.thumb ? await this.store.put(input.thumb) : null;
    const id = newId('con');
    const now = new Date().toISOString();
    const thumb = drawn?.sha256 ?? (input.imageId ? this.getImage(input.imageId).thumbSha256 : null);
    this.db.transaction(() => {
      this.insertBlob({ sha256, size, mime: 'application/vnd.singleinsert.concept' }, now);
      if (drawn) this.insertBlob({ ...drawn, mime: 'image/webp' }, now);
      this.db
        .prepare(
          `INSERT INTO concepts (id, name, class_word, token, kind, image_id, mask_id, base_model_id, status, embedding_sha256, lora_sha256, thumb_sha256, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?, ?)`,
        )
        .run(id, input.name, input.classWord, id, input.kind ?? 'subject', input.imageId, input.maskId, input.baseModelId, sha256, sha256, thumb, now);
      alongside?.(id);
    })();
    return this.getConcept(id);
  }

  /** What a person edits in the concept's detail view; tags are kept trimmed, unique and sorted. */
  updateConcept(id: string, changes: { name?: string; notes?: string; tags?: string[] }): ConceptRecord {
    this.getConcept(id);
    if (changes.name !== undefined) this.db.prepare('UPDATE concepts SET name = ? WHERE id = ?').run(changes.name, id);
    if (changes.notes !== undefined) this.db.prepare('UPDATE concepts SET notes = ? WHERE id = ?').run(changes.notes, id);
    if (changes.tags !== undefined) {
      const tags = [...new Set(changes.tags.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();
      this.db.prepare('UPDATE concepts SET tags_json = ? WHERE id = ?').run(JSON.stringify(tags), id);
    }
    return this.getConcept(id);
  }

  /** The concept's file (token embedding + LoRA) path in the store. */
  conceptFilePath(id: string): string {
    const row = this.db.prepare('SELECT lora_sha256 FROM concepts WHERE id = ?').get(id) as { lora_sha256: string | null } | undefined;
    if (!row) throw new AppError('not-found', `No concept ${id} in the library (see \`singleinsert library list\`).`);
    if (!row.lora_sha256) throw new AppError('unavailable', `Concept ${id} has not finished learning.`);
    return this.store.pathOf(row.lora_sha256);
  }

  async deleteConcept(id: string): Promise<{ removedFiles: number }> {
    this.getConcept(id);
    return this.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM concepts WHERE id = ?').run(id));
  }

  /** Stores a run's preview image and its row together. */
  async addRunPreview(runId: string, preview: Omit<RunPreview, 'sha256' | 'createdAt'>, png: Buffer): Promise<RunPreview> {
    const { sha256, size } = await this.store.put(png);
    const record: RunPreview = { ...preview, sha256, createdAt: new Date().toISOString() };
    this.db.transaction(() => {
      this.insertBlob({ sha256, size, mime: 'image/png' }, record.createdAt);
      this.runs.insertPreview(runId, record);
    })();
    return record;
  }

  /** Deletes a run that is not running with its steps, previews and checkpoint; the concept it made stays. */
  async deleteRun(runId: string): Promise<{ removedFiles: number }> {
    const removed = await this.deleteRowsThenFiles(() => this.runs.deleteRow(runId));
    rmSync(this.runDir(runId), { recursive: true, force: true });
    return removed;
  }

  // 3. Masks: every save is a new version for its image and class word

  async saveMask(input: { imageId: string; classWord: string; png: Buffer; source: 'auto' | 'sam' | 'manual' }): Promise<MaskRecord> {
    this.getImage(input.imageId);
    const classWord = input.classWord.trim().toLowerCase();
    if (!classWord) throw new AppError('invalid-input', 'A mask needs a class word (face, hair, dog…).');
    const { sha256, size } = await this.store.put(input.png);
    const id = newId('msk');
    const now = new Date().toISOString();
    const version = this.db.transaction(() => {
      this.insertBlob({ sha256, size, mime: 'image/png' }, now);
      const next = (this.db.prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM masks WHERE image_id = ? AND class_word = ?').get(input.imageId, classWord) as { v: number }).v;
      this.db
        .prepare('INSERT INTO masks (id, image_id, class_word, version, sha256, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.imageId, classWord, next, sha256, input.source, now);
      return next;
    }).immediate();
    return { id, imageId: input.imageId, classWord, version, sha256, source: input.source, createdAt: now };
  }

  listMasks(imageId: string): MaskRecord[] {
    return (
      this.db
        .prepare('SELECT id, image_id AS imageId, class_word AS classWord, version, sha256, source, created_at AS createdAt FROM masks WHERE image_id = ? ORDER BY class_word, version DESC')
        .all(imageId) as MaskRecord[]
    );
  }

  getMask(id: string): MaskRecord {
    const row = this.db
      .prepare('SELECT id, image_id AS imageId, class_word AS classWord, version, sha256, source, created_at AS createdAt FROM masks WHERE id = ?')
      .get(id) as MaskRecord | undefined;
    if (!row) throw new AppError('not-found', `No mask ${id}.`);
    return row;
  }

  // 4. Generations

  /** Stores a generated image, its settings and the concepts it used (placeholder and strength). */
  async addGeneration(input: {
    prompt: string;
    negative: string;
    settings: object;
    modelId: string | null;
    png: Buffer;
    concepts?: ReadonlyArray<{ conceptId: string; placeholder: string; scale: number }>;
  }): Promise<GenerationRow> {
    const { sha256, size } = await this.store.put(input.png);
    const id = newId('gen');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.insertBlob({ sha256, size, mime: 'image/png' }, now);
      this.db
        .prepare('INSERT INTO generations (id, prompt, negative_prompt, settings_json, model_id, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.prompt, input.negative, JSON.stringify(input.settings), input.modelId, sha256, now);
      const link = this.db.prepare('INSERT INTO generation_concepts (generation_id, concept_id, placeholder, scale) VALUES (?, ?, ?, ?)');
      for (const c of input.concepts ?? []) link.run(id, c.conceptId, c.placeholder, c.scale);
    })();
    return { id, prompt: input.prompt, sha256, createdAt: now };
  }

  async deleteGeneration(id: string): Promise<{ removedFiles: number }> {
    if (!this.db.prepare('SELECT 1 FROM generations WHERE id = ?').get(id)) throw new AppError('not-found', `No generated image ${id}.`);
    return this.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM generations WHERE id = ?').run(id));
  }

  // 5. Models

  addModel(input: Omit<ModelRecord, 'id' | 'installedAt'>): ModelRecord {
    const record: ModelRecord = { ...input, id: newId('mod'), installedAt: new Date().toISOString() };
    this.db
      .prepare(
        `INSERT INTO models (id, family, name, format, path, managed, sha256, size_bytes, source_url, installed_at)
         VALUES (@id, @family, @name, @format, @path, @managed, @sha256, @sizeBytes, @sourceUrl, @installedAt)`,
      )
      .run({ ...record, managed: record.managed ? 1 : 0 });
    return record;
  }

  listModels(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY installed_at DESC, id').all() as ModelRow[]).map(toModel);
  }

  getModel(idOrName: string): ModelRecord {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ? OR name = ? ORDER BY installed_at DESC LIMIT 1').get(idOrName, idOrName) as ModelRow | undefined;
    if (!row) throw new AppError('not-found', `No installed model ${idOrName} (see \`singleinsert models list\`).`);
    return toModel(row);
  }

  deleteModel(id: string): void {
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
  }

  // 6. Store bookkeeping

  stats(): { images: number; concepts: number; storeBytes: number } {
    const count = (table: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const bytes = (this.db.prepare('SELECT coalesce(sum(size), 0) AS n FROM blobs').get() as { n: number }).n;
    return { images: count('images'), concepts: count('concepts'), storeBytes: bytes };
  }

  /**
   * Brings rows and files back in step after a crash: removes half-written temp files,
   * blob rows nothing points at (and their files), and files no row knows.
   * Files with no row that are younger than `orphanMinAgeMs` are left: another process may be importing them.
   */
  reconcile(options: { orphanMinAgeMs?: number } = {}): ReconcileReport {
    const minAge = options.orphanMinAgeMs ?? DEFAULT_ORPHAN_MIN_AGE_MS;
    const tempFilesRemoved = this.store.clearTemp();
    const unreferenced = this.dropUnreferencedBlobRows();
    const known = new Set((this.db.prepare('SELECT sha256 FROM blobs').all() as Array<{ sha256: string }>).map((r) => r.sha256));
    const now = Date.now();
    let orphanFilesRemoved = 0;
    const onDisk = new Set<string>();
    for (const file of this.store.list()) {
      onDisk.add(file.sha256);
      if (!known.has(file.sha256) && now - file.mtimeMs >= minAge) {
        this.store.removeSync(file.sha256);
        orphanFilesRemoved++;
      }
    }
    const missingFiles = [...known].filter((sha) => !onDisk.has(sha));
    const interruptedRuns = this.runs.markOrphansInterrupted();
    return { tempFilesRemoved, orphanFilesRemoved, unreferencedRowsRemoved: unreferenced.length, missingFiles, interruptedRuns };
  }

  private findDuplicate(input: NewImage): ImageRecord | undefined {
    return this.findImageBySource(input.sourceSha256) ?? this.findImageBySource(input.image.sha256);
  }

  private insertBlob(file: StoredFile, now: string): void {
    this.db
      .prepare('INSERT INTO blobs (sha256, size, mime, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING')
      .run(file.sha256, file.size, file.mime, now);
  }

  private dropUnreferencedBlobRows(): string[] {
    const rows = this.db
      .prepare('DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM blob_refs) RETURNING sha256')
      .all() as Array<{ sha256: string }>;
    return rows.map((r) => r.sha256);
  }

  /** Rows go first, in one transaction with their blob rows; files follow. A crash in between leaves only orphan files, which reconcile() removes. */
  private async deleteRowsThenFiles(deleteRows: () => unknown): Promise<{ removedFiles: number }> {
    const freed = this.db.transaction(() => {
      deleteRows();
      return this.dropUnreferencedBlobRows();
    })();
    for (const sha of freed) await this.store.remove(sha);
    return { removedFiles: freed.length };
  }
}
