-- Facts about the database itself, such as which secret key sealed it;
-- residents found by phone at import.

-- +goose Up
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE INDEX residents_phone ON residents (phone);

-- +goose Down
DROP INDEX residents_phone;
DROP TABLE meta;
