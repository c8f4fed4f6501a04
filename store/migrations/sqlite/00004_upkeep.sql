-- Upkeep: each property's jam rule, the jams locks report, the work orders
-- they open for the maintenance team (with their timelines and the
-- residents watching them), and the staff accounts that work on them.
-- Durations are BIGINT microseconds, like times.

-- +goose Up
ALTER TABLE properties ADD COLUMN jam_rule_jams INTEGER NOT NULL DEFAULT 3;
ALTER TABLE properties ADD COLUMN jam_rule_window BIGINT NOT NULL DEFAULT 1209600000000; -- 14 days
ALTER TABLE properties ADD COLUMN jam_rule_uncleared BIGINT NOT NULL DEFAULT 1800000000; -- 30 minutes

CREATE TABLE jams (
    id         INTEGER PRIMARY KEY,
    lock_id    BIGINT  NOT NULL REFERENCES locks (id),
    started_at BIGINT  NOT NULL,
    cause      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    cleared_at BIGINT, -- NULL while the bolt is stuck
    cleared_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX jams_lock ON jams (lock_id, started_at);
CREATE INDEX jams_uncleared ON jams (started_at) WHERE cleared_at IS NULL;

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL, -- lower-cased
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until  BIGINT
);
CREATE UNIQUE INDEX staff_email ON staff (email);

CREATE TABLE staff_properties (
    staff_id    BIGINT NOT NULL REFERENCES staff (id),
    property_id BIGINT NOT NULL REFERENCES properties (id),
    PRIMARY KEY (staff_id, property_id)
);
CREATE INDEX staff_properties_property ON staff_properties (property_id);

CREATE TABLE staff_sessions (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT   NOT NULL,
    staff_id   BIGINT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip         TEXT   NOT NULL,
    user_agent TEXT   NOT NULL
);
CREATE UNIQUE INDEX staff_sessions_token_hash ON staff_sessions (token_hash);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

CREATE TABLE work_orders (
    id              INTEGER PRIMARY KEY,
    property_id     BIGINT  NOT NULL REFERENCES properties (id),
    unit_id         BIGINT  NOT NULL REFERENCES units (id),
    lock_id         BIGINT  NOT NULL REFERENCES locks (id),
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL, -- open, in_progress, resolved
    source          TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    jam_count       INTEGER NOT NULL,
    assignee_id     BIGINT  REFERENCES staff (id), -- NULL when nobody is assigned
    resolution      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    started_at      BIGINT,
    resolved_at     BIGINT,
    healthy_ops     INTEGER NOT NULL,
    last_healthy_at BIGINT
);
-- A lock has at most one work order that is not resolved.
CREATE UNIQUE INDEX work_orders_lock_open ON work_orders (lock_id) WHERE status <> 'resolved';
CREATE INDEX work_orders_lock ON work_orders (lock_id, created_at);
CREATE INDEX work_orders_property ON work_orders (property_id, status, created_at);
CREATE INDEX work_orders_created ON work_orders (created_at);
CREATE INDEX work_orders_assignee ON work_orders (assignee_id);

CREATE TABLE work_order_notes (
    id            INTEGER PRIMARY KEY,
    work_order_id BIGINT NOT NULL REFERENCES work_orders (id),
    occurred_at   BIGINT NOT NULL,
    author        TEXT   NOT NULL,
    kind          TEXT   NOT NULL,
    text          TEXT   NOT NULL
);
CREATE INDEX work_order_notes_work_order ON work_order_notes (work_order_id, occurred_at);

CREATE TABLE work_order_watchers (
    work_order_id BIGINT NOT NULL REFERENCES work_orders (id),
    resident_id   BIGINT NOT NULL REFERENCES residents (id),
    PRIMARY KEY (work_order_id, resident_id)
);
CREATE INDEX work_order_watchers_resident ON work_order_watchers (resident_id);

-- +goose Down
DROP TABLE work_order_watchers;
DROP TABLE work_order_notes;
DROP TABLE work_orders;
DROP TABLE staff_sessions;
DROP TABLE staff_properties;
DROP TABLE staff;
DROP TABLE jams;
ALTER TABLE properties DROP COLUMN jam_rule_uncleared;
ALTER TABLE properties DROP COLUMN jam_rule_window;
ALTER TABLE properties DROP COLUMN jam_rule_jams;
