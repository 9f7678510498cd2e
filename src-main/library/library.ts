// The library: one folder holding the SQLite database (one repository per table group) and the
// content-addressed file store. Invariant: a row only ever points at a complete file (files are written
// before rows are committed, and removed only after the rows pointing at them are gone).
import { PreferencesRepo } from './preferences.js';
import type { Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Blobs } from './blobs.js';
import { Concepts } from './concepts.js';
import { openDatabase } from './database.js';
import { FileStore } from './file-store.js';
import { Evaluations } from './evaluations.js';
import { Compositions, Generations } from './generations.js';
import { Images } from './images.js';
import { Masks } from './masks.js';
import { Models } from './models.js';
import { TrainingRuns } from './training-runs.js';

export type { NewImage } from './images.js';
export type { GenerationRow } from './generations.js';

export interface ReconcileReport {
  tempFilesRemoved: number;
  orphanFilesRemoved: number;
  unreferencedRowsRemoved: number;
  missingFiles: string[];
  /** Training runs whose process had died, now shown as interrupted. */
  interruptedRuns: number;
}

/** Files written less recently than this may belong to another process's import in flight. */
const DEFAULT_ORPHAN_MIN_AGE_MS = 10 * 60 * 1000;

export class Library {
  readonly db: Database;
  readonly store: FileStore;
  private readonly blobs: Blobs;
  readonly images: Images;
  readonly concepts: Concepts;
  readonly masks: Masks;
  readonly models: Models;
  readonly runs: TrainingRuns;
  readonly generations: Generations;
  readonly compositions: Compositions;
  readonly preferences: PreferencesRepo;
  readonly evaluations: Evaluations;

  private constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.store = new FileStore(join(dataDir, 'store'));
    this.db = openDatabase(join(dataDir, 'library.sqlite'));
    this.blobs = new Blobs(this.db, this.store);
    this.images = new Images(this.db, this.blobs);
    this.concepts = new Concepts(this.db, this.blobs, this.images);
    this.masks = new Masks(this.db, this.blobs, this.images);
    this.models = new Models(this.db);
    this.runs = new TrainingRuns(this.db, this.blobs, (runId) => join(dataDir, 'runs', runId));
    this.generations = new Generations(this.db, this.blobs);
    this.compositions = new Compositions(this.db);
    this.preferences = new PreferencesRepo(this.db);
    this.evaluations = new Evaluations(this.db, this.blobs);
  }

  /** Where compiled model graphs are cached (they are rebuilt when missing). */
  graphCacheDir(): string {
    return join(this.dataDir, 'cache', 'graphs');
  }

  static open(dataDir: string, options: { reconcile?: boolean } = {}): Library {
    const library = new Library(dataDir);
    if (options.reconcile ?? true) library.reconcile();
    return library;
  }

  close(): void {
    this.db.close();
  }

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
    const unreferenced = this.blobs.dropUnreferenced();
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
}
