-- Old sign-in attempts are deleted by age (they hold the client's IP):
-- an index on created_at keeps that sweep off a full scan. A Get Code
-- request and its link keep the language it was asked in, for the
-- messages they send, and a resident watching a work order the language they reported it in.
-- A keypad unlock names whose code it was (events recorded before this
-- name nobody). The same in both dialects.

-- +goose Up
CREATE INDEX sign_ins_created ON sign_ins (created_at);
ALTER TABLE backup_requests ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE backup_links ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE work_order_watchers ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE lock_events ADD COLUMN resident_id BIGINT;

-- +goose Down
ALTER TABLE lock_events DROP COLUMN resident_id;
ALTER TABLE work_order_watchers DROP COLUMN language;
ALTER TABLE backup_links DROP COLUMN language;
ALTER TABLE backup_requests DROP COLUMN language;
DROP INDEX sign_ins_created;
