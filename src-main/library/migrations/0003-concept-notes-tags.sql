-- What a person adds to a concept in its detail view: free notes and tags to find it by.
ALTER TABLE concepts ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE concepts ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
