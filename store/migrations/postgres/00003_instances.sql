-- Running Sparekey instances and when each last said it was alive: several
-- instances on one database share the locks between them by this list.

-- +goose Up
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    process      TEXT   NOT NULL, -- random per process: two processes with one id are told apart
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL  -- the database's clock, so hosts' clocks need not agree
);

-- +goose Down
DROP TABLE instances;
