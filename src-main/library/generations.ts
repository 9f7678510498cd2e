// The generations, generation_concepts and compositions tables behind typed interfaces; a generated image's
// file goes into the store with its rows, and leaves after them.
import type { Database } from 'better-sqlite3';
import { composition, type Composition } from '../../src-preload/contract/compose.js';
import type { GenerationRecord, SavedComposition } from '../../src-preload/contract/generations.js';
import { AppError } from '../common/app-error.js';
import { newId } from '../common/ids.js';
import type { Blobs } from './blobs.js';

interface GenerationDbRow {
  id: string;
  prompt: string;
  negative_prompt: string;
  settings_json: string;
  sha256: string;
  favorite: number;
  created_at: string;
}

/** A generated image as stored: what the CLI prints and the compose service reports. */
export interface GenerationRow {
  id: string;
  prompt: string;
  sha256: string;
  createdAt: string;
}

export class Generations {
  constructor(
    private readonly db: Database,
    private readonly blobs: Blobs,
  ) {}

  /** Stores a generated image, its settings and the concepts it used (placeholder and strength). */
  async add(input: {
    prompt: string;
    negative: string;
    settings: object;
    modelId: string | null;
    png: Buffer;
    concepts?: ReadonlyArray<{ conceptId: string; placeholder: string; scale: number }>;
  }): Promise<GenerationRow> {
    const { sha256, size } = await this.blobs.store.put(input.png);
    const id = newId('gen');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.blobs.insert({ sha256, size, mime: 'image/png' }, now);
      this.db
        .prepare('INSERT INTO generations (id, prompt, negative_prompt, settings_json, model_id, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.prompt, input.negative, JSON.stringify(input.settings), input.modelId, sha256, now);
      const link = this.db.prepare('INSERT INTO generation_concepts (generation_id, concept_id, placeholder, scale) VALUES (?, ?, ?, ?)');
      for (const c of input.concepts ?? []) link.run(id, c.conceptId, c.placeholder, c.scale);
    })();
    return { id, prompt: input.prompt, sha256, createdAt: now };
  }

  async delete(id: string): Promise<{ removedFiles: number }> {
    if (!this.db.prepare('SELECT 1 FROM generations WHERE id = ?').get(id)) throw new AppError('not-found', `No generated image ${id}.`);
    return this.blobs.deleteRowsThenFiles(() => this.db.prepare('DELETE FROM generations WHERE id = ?').run(id));
  }

  /** Newest first. */
  list(): GenerationRecord[] {
    return (this.db.prepare('SELECT * FROM generations ORDER BY created_at DESC, id').all() as GenerationDbRow[]).map((r) => this.toRecord(r));
  }

  get(id: string): GenerationRecord {
    const row = this.db.prepare('SELECT * FROM generations WHERE id = ?').get(id) as GenerationDbRow | undefined;
    if (!row) throw new AppError('not-found', `No generated image ${id}.`);
    return this.toRecord(row);
  }

  setFavorite(id: string, favorite: boolean): GenerationRecord {
    this.get(id);
    this.db.prepare('UPDATE generations SET favorite = ? WHERE id = ?').run(favorite ? 1 : 0, id);
    return this.get(id);
  }

  /** Puts an image on exactly these boards (names trimmed, each once). */
  setBoards(id: string, boards: readonly string[]): GenerationRecord {
    this.get(id);
    const names = [...new Set(boards.map((b) => b.trim()).filter(Boolean))];
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM generation_boards WHERE generation_id = ?').run(id);
      const add = this.db.prepare('INSERT INTO generation_boards (generation_id, board) VALUES (?, ?)');
      for (const b of names) add.run(id, b);
    })();
    return this.get(id);
  }

  /** Every board with how many images it holds, by name. */
  boards(): Array<{ name: string; count: number }> {
    return this.db.prepare('SELECT board AS name, COUNT(*) AS count FROM generation_boards GROUP BY board ORDER BY board').all() as Array<{
      name: string;
      count: number;
    }>;
  }

  /** The concepts an image used, in placeholder order. */
  concepts(id: string): GenerationRecord['concepts'] {
    return this.db
      .prepare('SELECT concept_id AS conceptId, placeholder, scale FROM generation_concepts WHERE generation_id = ? ORDER BY placeholder')
      .all(id) as GenerationRecord['concepts'];
  }

  private toRecord(r: GenerationDbRow): GenerationRecord {
    const settings = JSON.parse(r.settings_json) as { model?: string; modelRef?: string; composition?: unknown };
    // images from before compositions (or whose concepts were deleted since) have none to draw again
    const parsed = settings.composition === undefined ? null : composition.safeParse(settings.composition);
    return {
      id: r.id,
      prompt: r.prompt,
      negative: r.negative_prompt,
      sha256: r.sha256,
      createdAt: r.created_at,
      favorite: r.favorite === 1,
      modelRef: settings.modelRef ?? null,
      modelLabel: settings.model ?? null,
      composition: parsed?.success ? parsed.data : null,
      concepts: this.concepts(r.id),
      boards: (this.db.prepare('SELECT board FROM generation_boards WHERE generation_id = ? ORDER BY board').all(r.id) as Array<{ board: string }>).map(
        (b) => b.board,
      ),
    };
  }
}

interface CompositionDbRow {
  id: string;
  name: string;
  json: string;
  model_ref: string | null;
  created_at: string;
  updated_at: string;
}

export class Compositions {
  constructor(private readonly db: Database) {}

  list(): SavedComposition[] {
    return (this.db.prepare('SELECT * FROM compositions ORDER BY updated_at DESC, id').all() as CompositionDbRow[]).map(toSaved);
  }

  save(input: { id?: string; name: string; composition: Composition; modelRef: string | null }): SavedComposition {
    const now = new Date().toISOString();
    const json = JSON.stringify(input.composition);
    if (input.id) {
      const changed = this.db
        .prepare('UPDATE compositions SET name = ?, json = ?, model_ref = ?, updated_at = ? WHERE id = ?')
        .run(input.name, json, input.modelRef, now, input.id).changes;
      if (!changed) throw new AppError('not-found', `No saved composition ${input.id}.`);
      return this.get(input.id);
    }
    const id = newId('cmp');
    this.db
      .prepare('INSERT INTO compositions (id, name, json, model_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.name, json, input.modelRef, now, now);
    return this.get(id);
  }

  get(id: string): SavedComposition {
    const row = this.db.prepare('SELECT * FROM compositions WHERE id = ?').get(id) as CompositionDbRow | undefined;
    if (!row) throw new AppError('not-found', `No saved composition ${id}.`);
    return toSaved(row);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM compositions WHERE id = ?').run(id).changes === 1;
  }
}

function toSaved(r: CompositionDbRow): SavedComposition {
  return {
    id: r.id,
    name: r.name,
    composition: composition.parse(JSON.parse(r.json)),
    modelRef: r.model_ref,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
