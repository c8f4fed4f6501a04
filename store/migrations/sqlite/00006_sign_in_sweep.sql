-- Old sign-in attempts are deleted by age (they hold the client's IP):
-- an index on created_at keeps that sweep off a full scan. The same in
-- both dialects.

-- +goose Up
CREATE INDEX sign_ins_created ON sign_ins (created_at);

-- +goose Down
DROP INDEX sign_ins_created;
