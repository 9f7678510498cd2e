-- Saved compositions (prompt, concepts, regions, settings; the model they were drawn with) to reopen,
-- edit and draw again; and favourite generated images.
CREATE TABLE compositions (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  json        TEXT NOT NULL,
  model_ref   TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

ALTER TABLE generations ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1));
