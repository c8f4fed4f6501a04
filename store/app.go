package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"sparekey"
)

// The resident app: sign-in attempts and sessions.

const signInColumns = `id, resident_id, handle_hash, token_hash, code_hash, ip, created_at, expires_at, attempts, used_at`

func scanSignIn(row scanner) (*sparekey.SignIn, error) {
	var s sparekey.SignIn
	var resident, used sql.NullInt64
	var created, expires int64
	if err := row.Scan(&s.ID, &resident, &s.HandleHash, &s.TokenHash, &s.CodeHash, &s.IP, &created, &expires, &s.Attempts, &used); err != nil {
		return nil, err
	}
	s.ResidentID = resident.Int64
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	s.UsedAt = timePtr(used)
	return &s, nil
}

func (t *tx) CreateSignIn(ctx context.Context, s *sparekey.SignIn) error {
	id, err := t.insert(ctx, "create sign-in", "", `
		INSERT INTO sign_ins (resident_id, handle_hash, token_hash, code_hash, ip, created_at, expires_at, attempts, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullID(s.ResidentID), s.HandleHash, s.TokenHash, s.CodeHash, s.IP, micros(s.CreatedAt), micros(s.ExpiresAt),
		s.Attempts, nullMicros(s.UsedAt))
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// The messages name no hash: they may reach an anonymous visitor.

func (t *tx) SignInByHandleHash(ctx context.Context, hash string) (*sparekey.SignIn, error) {
	missing := notFound("sign-in not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "sign-in by handle", missing, scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE handle_hash = ? `+t.rowLock(), hash)
}

func (t *tx) SignInByTokenHash(ctx context.Context, hash string) (*sparekey.SignIn, error) {
	missing := notFound("sign-in not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "sign-in by token", missing, scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE token_hash = ? `+t.rowLock(), hash)
}

func (t *tx) UpdateSignIn(ctx context.Context, s *sparekey.SignIn) error {
	return t.update(ctx, "update sign-in", notFound("sign-in %d not found", s.ID), "", `
		UPDATE sign_ins SET attempts = ?, used_at = ?, expires_at = ? WHERE id = ?`,
		s.Attempts, nullMicros(s.UsedAt), micros(s.ExpiresAt), s.ID)
}

func (t *tx) CountSignInsSince(ctx context.Context, residentID int64, since time.Time) (int, error) {
	return t.count(ctx, "count sign-ins",
		`SELECT COUNT(*) FROM sign_ins WHERE resident_id = ? AND created_at > ?`, residentID, micros(since))
}

func (t *tx) DeleteSignInsBefore(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM sign_ins WHERE created_at < ?`, micros(before)); err != nil {
		return fmt.Errorf("delete old sign-ins: %w", err)
	}
	return nil
}

const residentSessionColumns = `id, token_hash, resident_id, created_at, expires_at, ip, user_agent`

func scanResidentSession(row scanner) (*sparekey.ResidentSession, error) {
	var s sparekey.ResidentSession
	var created, expires int64
	if err := row.Scan(&s.ID, &s.TokenHash, &s.ResidentID, &created, &expires, &s.IP, &s.UserAgent); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, nil
}

func (t *tx) CreateResidentSession(ctx context.Context, s *sparekey.ResidentSession) error {
	id, err := t.insert(ctx, "create resident session", "", `
		INSERT INTO resident_sessions (token_hash, resident_id, created_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TokenHash, s.ResidentID, micros(s.CreatedAt), micros(s.ExpiresAt), s.IP, s.UserAgent)
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// ResidentSessionByTokenHash returns the session, expired or not: the
// caller compares ExpiresAt with its clock.
func (t *tx) ResidentSessionByTokenHash(ctx context.Context, hash string) (*sparekey.ResidentSession, error) {
	missing := notFound("resident session not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "resident session", missing, scanResidentSession,
		`SELECT `+residentSessionColumns+` FROM resident_sessions WHERE token_hash = ?`, hash)
}

func (t *tx) DeleteResidentSessions(ctx context.Context, id, residentID int64, now time.Time) error {
	var err error
	switch {
	case id > 0:
		_, err = t.exec(ctx, `DELETE FROM resident_sessions WHERE id = ?`, id)
	case residentID > 0:
		_, err = t.exec(ctx, `DELETE FROM resident_sessions WHERE resident_id = ?`, residentID)
	default:
		_, err = t.exec(ctx, `DELETE FROM resident_sessions WHERE expires_at <= ?`, micros(now))
	}
	if err != nil {
		return fmt.Errorf("delete resident sessions: %w", err)
	}
	return nil
}
