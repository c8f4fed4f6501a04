-- An outbox message may stop being worth sending: a backup link or a
-- sign-in code expires. valid_until (NULL: the message keeps) lets the
-- worker end such a message as expired instead of sending a dead link.
-- The same in both dialects.

-- +goose Up
ALTER TABLE messages ADD COLUMN valid_until BIGINT;

-- +goose Down
ALTER TABLE messages DROP COLUMN valid_until;
