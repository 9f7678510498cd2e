-- Which concept stood at which placeholder of a generated image, and at what strength (LoRA scale).
ALTER TABLE generation_concepts ADD COLUMN placeholder TEXT NOT NULL DEFAULT '*';
ALTER TABLE generation_concepts ADD COLUMN scale REAL NOT NULL DEFAULT 1;
