-- Old sign-in attempts are deleted by age (they hold the client's IP):
-- an index on created_at keeps that sweep off a full scan. A Get Code
-- request and its link keep the language it was asked in, for the
-- messages they send, and a resident watching a work order the language they reported it in.
-- A keypad unlock names whose code it was (events recorded before this
-- name nobody). A sign-in request is answered by a background job, as
-- Get Code is: it keeps the typed contact's kind and keyed hash, its code
-- and link token sealed until the job sends them, its outcome and the
-- job's lease. The same in both dialects.

-- +goose Up
CREATE INDEX sign_ins_created ON sign_ins (created_at);
ALTER TABLE sign_ins ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN contact_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN contact_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN secret_sealed BLOB;
ALTER TABLE sign_ins ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE sign_ins ADD COLUMN outcome TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE sign_ins ADD COLUMN claimed_until BIGINT;
CREATE INDEX sign_ins_pending ON sign_ins (created_at) WHERE outcome = 'pending';
ALTER TABLE backup_requests ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE backup_links ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE work_order_watchers ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE lock_events ADD COLUMN resident_id BIGINT;

-- +goose Down
ALTER TABLE lock_events DROP COLUMN resident_id;
ALTER TABLE work_order_watchers DROP COLUMN language;
ALTER TABLE backup_links DROP COLUMN language;
ALTER TABLE backup_requests DROP COLUMN language;
DROP INDEX sign_ins_pending;
ALTER TABLE sign_ins DROP COLUMN claimed_until;
ALTER TABLE sign_ins DROP COLUMN outcome;
ALTER TABLE sign_ins DROP COLUMN language;
ALTER TABLE sign_ins DROP COLUMN secret_sealed;
ALTER TABLE sign_ins DROP COLUMN contact_hash;
ALTER TABLE sign_ins DROP COLUMN contact_kind;
ALTER TABLE sign_ins DROP COLUMN user_agent;
DROP INDEX sign_ins_created;
