-- Running Sparekey instances and when each last said it was alive: several
-- instances on one database share the locks between them by this list.

-- +goose Up
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE instances;
