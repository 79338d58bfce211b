-- Edited messages (issue 7, kontor-bridge phase 2): `message.ingest` with `edit_of`
-- records a messenger's edited message as its own row (its own external id, so the
-- delivery stays idempotent) that points at the message it edits. An edit joins the
-- original's contact, inquiry and lead; it never makes an inquiry of its own, and the
-- inquiry's message count leaves edits out. docs/LEADS.md, "Edited messages".

ALTER TABLE messages ADD COLUMN edit_of bigint REFERENCES messages(id);
CREATE INDEX messages_edit_of_idx ON messages (edit_of) WHERE edit_of IS NOT NULL;
