-- What a run shows while it learns: each preview image (the user's test prompts drawn with the concept
-- as it stands), and the training process's memory after each step.
ALTER TABLE training_steps ADD COLUMN rss_mb REAL;

CREATE TABLE training_previews (
  run_id       TEXT NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
  step         INTEGER NOT NULL,
  stage        INTEGER NOT NULL CHECK (stage IN (1, 2)),
  prompt_index INTEGER NOT NULL,
  prompt       TEXT NOT NULL,
  seed         INTEGER NOT NULL,
  sha256       TEXT NOT NULL REFERENCES blobs(sha256),
  -- 1: drawn from the finished concept (its thumbnail comes from the first one)
  final        INTEGER NOT NULL DEFAULT 0 CHECK (final IN (0, 1)),
  created_at   TEXT NOT NULL,
  PRIMARY KEY (run_id, step, prompt_index)
) STRICT;

DROP VIEW blob_refs;
CREATE VIEW blob_refs AS
  SELECT sha256 FROM images
  UNION SELECT thumb_sha256 FROM images
  UNION SELECT sha256 FROM masks
  UNION SELECT embedding_sha256 FROM concepts WHERE embedding_sha256 IS NOT NULL
  UNION SELECT lora_sha256 FROM concepts WHERE lora_sha256 IS NOT NULL
  UNION SELECT thumb_sha256 FROM concepts WHERE thumb_sha256 IS NOT NULL
  UNION SELECT sha256 FROM generations
  UNION SELECT sha256 FROM training_previews;
