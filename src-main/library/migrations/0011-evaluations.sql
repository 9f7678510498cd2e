-- Concept report cards (issue 25): one row per evaluation of a concept, its report as JSON (metrics, models,
-- judge, cost), and the images it measured, kept in the store so the grid can be shown again.
CREATE TABLE evaluations (
  id          TEXT PRIMARY KEY,
  concept_id  TEXT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
  label       TEXT NOT NULL,
  set_name    TEXT NOT NULL,
  report_json TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX evaluations_by_concept ON evaluations (concept_id, created_at);

CREATE TABLE evaluation_images (
  evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  PRIMARY KEY (evaluation_id, position)
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
  UNION SELECT sha256 FROM training_previews
  UNION SELECT sha256 FROM evaluation_images;
