-- Sparekey schema for SQLite.
--
-- Every time is a BIGINT of Unix microseconds in UTC; a NULL time is an
-- unset pointer field. Booleans are INTEGER 0/1. Door codes and message
-- bodies are AES-GCM sealed (BLOB); link tokens and contacts are stored
-- only as keyed hashes. The PostgreSQL schema mirrors this one column for
-- column, so the store's queries are the same on both.

-- +goose Up
CREATE TABLE properties (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    timezone          TEXT    NOT NULL,
    maintenance_email TEXT    NOT NULL DEFAULT '',
    maintenance_phone TEXT    NOT NULL DEFAULT '',
    created_at        BIGINT  NOT NULL
);
CREATE UNIQUE INDEX properties_name ON properties (name);

CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    property_id BIGINT NOT NULL REFERENCES properties (id),
    name        TEXT   NOT NULL
);
CREATE UNIQUE INDEX units_property_name ON units (property_id, name);

CREATE TABLE residents (
    id           INTEGER PRIMARY KEY,
    unit_id      BIGINT NOT NULL REFERENCES units (id),
    name         TEXT   NOT NULL,
    email        TEXT   NOT NULL DEFAULT '',
    phone        TEXT   NOT NULL DEFAULT '',
    email_hash   TEXT   NOT NULL DEFAULT '', -- '' when there is no email
    phone_hash   TEXT   NOT NULL DEFAULT '', -- '' when there is no phone
    created_at   BIGINT NOT NULL,
    moved_out_at BIGINT
);
CREATE INDEX residents_unit ON residents (unit_id);
CREATE INDEX residents_email ON residents (email);
CREATE INDEX residents_email_hash ON residents (email_hash);
CREATE INDEX residents_phone_hash ON residents (phone_hash);

CREATE TABLE locks (
    id         INTEGER PRIMARY KEY,
    unit_id    BIGINT  NOT NULL REFERENCES units (id),
    device     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    adapter    TEXT    NOT NULL,
    slot_count INTEGER NOT NULL,
    code_min   INTEGER NOT NULL,
    code_max   INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    battery    INTEGER NOT NULL,
    online     INTEGER NOT NULL, -- 0 or 1
    last_seen  BIGINT
);
CREATE UNIQUE INDEX locks_device ON locks (device);
CREATE INDEX locks_unit ON locks (unit_id);

CREATE TABLE slots (
    id            INTEGER PRIMARY KEY,
    lock_id       BIGINT  NOT NULL REFERENCES locks (id),
    number        INTEGER NOT NULL,
    purpose       TEXT    NOT NULL,
    resident_id   BIGINT  REFERENCES residents (id),
    code_sealed   BLOB, -- NULL when the slot should be empty
    sync          TEXT    NOT NULL,
    sync_attempts INTEGER NOT NULL,
    next_sync_at  BIGINT  NOT NULL,
    sync_error    TEXT    NOT NULL,
    synced_at     BIGINT,
    backup        TEXT    NOT NULL, -- '' for slots outside the backup pool
    issued_to     BIGINT  REFERENCES residents (id),
    issued_at     BIGINT,
    used_at       BIGINT
);
CREATE UNIQUE INDEX slots_lock_number ON slots (lock_id, number);
CREATE INDEX slots_sync ON slots (sync, next_sync_at);
CREATE INDEX slots_backup ON slots (purpose, backup, issued_at);
CREATE INDEX slots_resident ON slots (resident_id);

CREATE TABLE backup_requests (
    id            INTEGER PRIMARY KEY,
    contact_hash  TEXT    NOT NULL,
    contact_kind  TEXT    NOT NULL,
    ip            TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    resident_id   BIGINT  REFERENCES residents (id),
    created_at    BIGINT  NOT NULL,
    processed_at  BIGINT,
    attempts      INTEGER NOT NULL,
    claimed_until BIGINT -- a worker's lease; NULL when not claimed
);
CREATE INDEX backup_requests_ip ON backup_requests (ip, created_at);
CREATE INDEX backup_requests_pending ON backup_requests (created_at) WHERE outcome = 'pending';

CREATE TABLE backup_links (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL,
    resident_id BIGINT  NOT NULL REFERENCES residents (id),
    request_id  BIGINT  REFERENCES backup_requests (id),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT,
    revealed_at BIGINT,
    reveals     INTEGER NOT NULL
);
CREATE UNIQUE INDEX backup_links_token_hash ON backup_links (token_hash);
CREATE INDEX backup_links_resident ON backup_links (resident_id, created_at);

CREATE TABLE backup_link_slots (
    link_id BIGINT NOT NULL REFERENCES backup_links (id),
    slot_id BIGINT NOT NULL REFERENCES slots (id),
    PRIMARY KEY (link_id, slot_id)
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_sealed     BLOB, -- NULL when empty
    html_sealed     BLOB, -- NULL when empty
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT    NOT NULL,
    provider_id     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    claimed_until   BIGINT -- a worker's lease; NULL when not claimed
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_recipient ON messages (recipient, created_at);
CREATE INDEX messages_channel ON messages (channel, created_at);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    ip          TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    detail      TEXT   NOT NULL -- JSON object
);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at);

CREATE TABLE lock_events (
    id          INTEGER PRIMARY KEY,
    lock_id     BIGINT  NOT NULL REFERENCES locks (id),
    occurred_at BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    slot        INTEGER NOT NULL, -- -1 when no slot is involved
    detail      TEXT    NOT NULL
);
CREATE INDEX lock_events_lock ON lock_events (lock_id, occurred_at);

-- +goose Down
DROP TABLE lock_events;
DROP TABLE audit_events;
DROP TABLE messages;
DROP TABLE backup_link_slots;
DROP TABLE backup_links;
DROP TABLE backup_requests;
DROP TABLE slots;
DROP TABLE locks;
DROP TABLE residents;
DROP TABLE units;
DROP TABLE properties;
