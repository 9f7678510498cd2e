-- A concept is a subject (its token `*` names a thing in the prompt, with or without a LoRA) or a style:
-- a LoRA alone, imported from another tool, that changes the whole picture and has no token.
ALTER TABLE concepts ADD COLUMN kind TEXT NOT NULL DEFAULT 'subject' CHECK (kind IN ('subject', 'style'));
