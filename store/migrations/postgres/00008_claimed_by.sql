-- Each claim names the instance holding it, so that an instance restarting
-- under the same id (after a crash) takes its own claims back at once
-- instead of waiting out their leases. NULL: claimed by an unnamed store.
-- The same in both dialects.

-- +goose Up
ALTER TABLE backup_requests ADD COLUMN claimed_by TEXT;
ALTER TABLE sign_ins ADD COLUMN claimed_by TEXT;
ALTER TABLE messages ADD COLUMN claimed_by TEXT;

-- +goose Down
ALTER TABLE messages DROP COLUMN claimed_by;
ALTER TABLE sign_ins DROP COLUMN claimed_by;
ALTER TABLE backup_requests DROP COLUMN claimed_by;
