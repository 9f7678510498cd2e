-- Boards: named collections of generated images (an image may sit on several), as a person sorts their work.
CREATE TABLE generation_boards (
  generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  board         TEXT NOT NULL,
  PRIMARY KEY (generation_id, board)
) STRICT;
CREATE INDEX generation_boards_by_board ON generation_boards (board);
