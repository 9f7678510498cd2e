-- The user's preferences (the device work runs on when a run or drawing leaves it to the app), one row a key,
-- each value JSON checked against the contract's schema when read.
CREATE TABLE preferences (
  key TEXT PRIMARY KEY,
  value_json TEXT NOT NULL
);
