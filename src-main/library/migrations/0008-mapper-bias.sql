-- The image encoder's projection to the token is now a bare matrix, as in SingleInsert's code. Runs begun
-- before had a bias on it and their checkpoints hold it: they keep it, so a resume takes the steps they would have.
UPDATE training_runs SET settings_json = json_set(settings_json, '$.mapperBias', json('true'));
