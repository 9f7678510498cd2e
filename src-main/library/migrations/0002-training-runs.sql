-- Training runs as the learning service keeps them (0001's table was never written to): what was
-- asked (photo, mask version, model, settings), where it stands (state, stage, step), each step's
-- losses, and the concept it made. A run's resumable state lives in runs/<id>/ of the data folder.
DROP INDEX runs_by_concept;
DROP TABLE training_runs;

CREATE TABLE training_runs (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  class_word     TEXT NOT NULL,
  image_id       TEXT REFERENCES images(id) ON DELETE SET NULL,
  mask_id        TEXT REFERENCES masks(id) ON DELETE SET NULL,
  model_id       TEXT REFERENCES models(id) ON DELETE SET NULL,
  -- the SD model as the user named it (an id, a name or a path), resolved again on resume
  model_ref      TEXT NOT NULL,
  settings_json  TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'interrupted', 'succeeded', 'failed', 'cancelled')),
  stage          INTEGER NOT NULL DEFAULT 1 CHECK (stage IN (1, 2)),
  -- optimizer steps done, over both stages, and in all
  step           INTEGER NOT NULL DEFAULT 0,
  total_steps    INTEGER NOT NULL,
  -- steps of the last checkpoint written (a resumed run starts after it)
  checkpoint_step INTEGER NOT NULL DEFAULT 0,
  -- the process running it, so a run whose process died shows as interrupted
  owner_pid      INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
  timings_json   TEXT NOT NULL DEFAULT '{}',
  log_json       TEXT NOT NULL DEFAULT '[]',
  error          TEXT,
  concept_id     TEXT REFERENCES concepts(id) ON DELETE SET NULL,
  queue_order    INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  started_at     TEXT,
  finished_at    TEXT
) STRICT;

-- One row per optimizer step: the total loss and its terms (L_sm only in Stage II).
CREATE TABLE training_steps (
  run_id  TEXT NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
  step    INTEGER NOT NULL,
  stage   INTEGER NOT NULL CHECK (stage IN (1, 2)),
  loss    REAL NOT NULL,
  l_fg    REAL NOT NULL,
  l_bg    REAL NOT NULL,
  l_sm    REAL,
  grad_norm REAL NOT NULL,
  ms      REAL NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT;

CREATE INDEX runs_by_state ON training_runs(state, queue_order);
