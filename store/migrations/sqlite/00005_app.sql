-- The resident app: sign-in attempts (a one-time code and link sent to the
-- account's phone and email) and residents' sessions. Handles, tokens and
-- codes are stored only as keyed hashes. Mirrors the other dialect's
-- 00005_app.sql column for column.

-- +goose Up
CREATE TABLE sign_ins (
    id          INTEGER PRIMARY KEY,
    resident_id BIGINT  REFERENCES residents (id), -- NULL when the contact matched nobody
    handle_hash TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    attempts    INTEGER NOT NULL,
    used_at     BIGINT
);
CREATE UNIQUE INDEX sign_ins_handle_hash ON sign_ins (handle_hash);
CREATE UNIQUE INDEX sign_ins_token_hash ON sign_ins (token_hash);
CREATE INDEX sign_ins_resident ON sign_ins (resident_id, created_at);

CREATE TABLE resident_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT   NOT NULL,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    ip          TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL
);
CREATE UNIQUE INDEX resident_sessions_token_hash ON resident_sessions (token_hash);
CREATE INDEX resident_sessions_resident ON resident_sessions (resident_id);
CREATE INDEX resident_sessions_expires ON resident_sessions (expires_at);

-- +goose Down
DROP TABLE resident_sessions;
DROP TABLE sign_ins;
