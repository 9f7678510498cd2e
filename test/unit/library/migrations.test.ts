import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/library/database.js';
import { loadMigrations, migrate } from '../../../src-main/library/migrations.js';
import { learnSettings } from '../../../src-preload/contract/training.js';
import { tmpDir } from '../../helpers/tmp.js';

const tables = (db: BetterSqlite3.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);

describe('migrations', () => {
  it('creates the library tables with WAL and foreign keys on', () => {
    const db = openDatabase(join(tmpDir(), 'lib.sqlite'));
    expect(tables(db)).toEqual(
      expect.arrayContaining(['blobs', 'images', 'masks', 'concepts', 'training_runs', 'generations', 'generation_concepts', 'models']),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    db.close();
  });

  it('is a no-op on an up-to-date database', () => {
    const file = join(tmpDir(), 'lib.sqlite');
    openDatabase(file).close();
    const db = new BetterSqlite3(file);
    expect(migrate(db)).toEqual({ from: loadMigrations().length, to: loadMigrations().length });
    db.close();
  });

  it('applies pending migrations all-or-nothing', () => {
    const db = new BetterSqlite3(':memory:');
    const good = { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER);' };
    const bad = { version: 2, name: 'bad', sql: 'CREATE TABLE b (x INTEGER); THIS IS NOT SQL;' };
    expect(() => migrate(db, [good, bad])).toThrow();
    expect(tables(db)).toEqual([]);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(migrate(db, [good])).toEqual({ from: 0, to: 1 });
    expect(tables(db)).toEqual(['a']);
  });

  it('refuses a library written by a newer app', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('user_version = 99');
    expect(() => migrate(db)).toThrow(/newer SingleInsert Studio/);
  });

  it('numbers migration files without gaps', () => {
    loadMigrations().forEach((m, i) => expect(m.version).toBe(i + 1));
  });

  it('enforces foreign keys (a mask needs its image)', () => {
    const db = openDatabase(join(tmpDir(), 'lib.sqlite'));
    expect(() =>
      db
        .prepare(
          "INSERT INTO masks (id, image_id, class_word, version, sha256, source, created_at) VALUES ('msk_1', 'img_missing', 'dog', 1, 'x', 'sam', 'now')",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('0008: runs begun before keep the projection bias their checkpoints hold; new ones follow the default', () => {
    const all = loadMigrations();
    const db = new BetterSqlite3(':memory:');
    migrate(db, all.slice(0, 7));
    db.prepare(
      `INSERT INTO training_runs (id, name, class_word, model_ref, settings_json, state, total_steps, queue_order, created_at)
       VALUES ('run_old00001', 'old', 'dog', 'sd', '{"steps1":3,"encoder":"official"}', 'interrupted', 3, 1, 'now')`,
    ).run();
    migrate(db, all);
    const settings = JSON.parse(
      (db.prepare("SELECT settings_json FROM training_runs WHERE id = 'run_old00001'").get() as { settings_json: string }).settings_json,
    );
    expect(settings).toEqual({ steps1: 3, encoder: 'official', mapperBias: true });
    expect(learnSettings.parse({}).mapperBias).toBe(false);
    db.close();
  });
});
