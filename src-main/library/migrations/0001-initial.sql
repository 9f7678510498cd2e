-- Every file in the content-addressed store has one row here; the other tables
-- point at it, so a file nobody points at can be found and removed.
CREATE TABLE blobs (
  sha256     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  mime       TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE images (
  id            TEXT PRIMARY KEY,
  sha256        TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),
  source_sha256 TEXT NOT NULL UNIQUE,
  thumb_sha256  TEXT NOT NULL REFERENCES blobs(sha256),
  name          TEXT NOT NULL,
  source_format TEXT NOT NULL,
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  source_width  INTEGER NOT NULL,
  source_height INTEGER NOT NULL,
  bytes         INTEGER NOT NULL,
  created_at    TEXT NOT NULL
) STRICT;

-- Each save of a mask is a new version; concepts record the version they used.
CREATE TABLE masks (
  id         TEXT PRIMARY KEY,
  image_id   TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  class_word TEXT NOT NULL,
  version    INTEGER NOT NULL,
  sha256     TEXT NOT NULL REFERENCES blobs(sha256),
  source     TEXT NOT NULL CHECK (source IN ('auto', 'sam', 'manual')),
  created_at TEXT NOT NULL,
  UNIQUE (image_id, class_word, version)
) STRICT;

-- Installed models; `managed` = 0 means the files are the user's and are only referenced.
CREATE TABLE models (
  id           TEXT PRIMARY KEY,
  family       TEXT NOT NULL,
  name         TEXT NOT NULL,
  format       TEXT NOT NULL,
  path         TEXT NOT NULL,
  managed      INTEGER NOT NULL CHECK (managed IN (0, 1)),
  sha256       TEXT,
  size_bytes   INTEGER NOT NULL,
  source_url   TEXT,
  installed_at TEXT NOT NULL
) STRICT;

CREATE TABLE concepts (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  class_word       TEXT NOT NULL,
  token            TEXT NOT NULL UNIQUE,
  image_id         TEXT REFERENCES images(id) ON DELETE SET NULL,
  mask_id          TEXT REFERENCES masks(id) ON DELETE SET NULL,
  base_model_id    TEXT REFERENCES models(id) ON DELETE SET NULL,
  status           TEXT NOT NULL CHECK (status IN ('draft', 'training', 'ready', 'failed')),
  embedding_sha256 TEXT REFERENCES blobs(sha256),
  lora_sha256      TEXT REFERENCES blobs(sha256),
  thumb_sha256     TEXT REFERENCES blobs(sha256),
  created_at       TEXT NOT NULL
) STRICT;

CREATE TABLE training_runs (
  id           TEXT PRIMARY KEY,
  concept_id   TEXT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
  stage        TEXT NOT NULL CHECK (stage IN ('invert', 'finetune')),
  config_json  TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  metrics_json TEXT,
  error        TEXT,
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT
) STRICT;

CREATE TABLE generations (
  id              TEXT PRIMARY KEY,
  prompt          TEXT NOT NULL,
  negative_prompt TEXT NOT NULL DEFAULT '',
  settings_json   TEXT NOT NULL,
  model_id        TEXT REFERENCES models(id) ON DELETE SET NULL,
  sha256          TEXT NOT NULL REFERENCES blobs(sha256),
  created_at      TEXT NOT NULL
) STRICT;

CREATE TABLE generation_concepts (
  generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  concept_id    TEXT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
  PRIMARY KEY (generation_id, concept_id)
) STRICT;

CREATE INDEX masks_by_image ON masks(image_id, class_word, version);
CREATE INDEX concepts_by_image ON concepts(image_id);
CREATE INDEX runs_by_concept ON training_runs(concept_id);

-- Every column that points into the store. Garbage collection keeps exactly these.
CREATE VIEW blob_refs AS
  SELECT sha256 FROM images
  UNION SELECT thumb_sha256 FROM images
  UNION SELECT sha256 FROM masks
  UNION SELECT embedding_sha256 FROM concepts WHERE embedding_sha256 IS NOT NULL
  UNION SELECT lora_sha256 FROM concepts WHERE lora_sha256 IS NOT NULL
  UNION SELECT thumb_sha256 FROM concepts WHERE thumb_sha256 IS NOT NULL
  UNION SELECT sha256 FROM generations;
