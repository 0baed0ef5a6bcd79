-- user_sessions is updated in place at every batch that touches a session (counts,
-- last activity, agents): half of each page left free lets PostgreSQL write the new
-- version of a row beside the old one without touching the indexes (a HOT update: no
-- indexed column changes), and prune the old versions on the page as it goes. Applies
-- to pages written from now on. Idempotent.

ALTER TABLE user_sessions SET (fillfactor = 50);
