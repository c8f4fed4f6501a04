package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"sparekey"
)

// Resident sign-in attempts and resident sessions.

const signInColumns = `id, resident_id, handle_hash, token_hash, code_hash, ip, created_at, expires_at, attempts, used_at,
	user_agent, contact_kind, contact_hash, secret_sealed, language, outcome, claimed_until`

func (t *tx) scanSignIn(row scanner) (*sparekey.SignIn, error) {
	var s sparekey.SignIn
	var resident, used, claimed sql.NullInt64
	var created, expires int64
	var secret []byte
	if err := row.Scan(&s.ID, &resident, &s.HandleHash, &s.TokenHash, &s.CodeHash, &s.IP, &created, &expires, &s.Attempts, &used,
		&s.UserAgent, &s.ContactKind, &s.ContactHash, &secret, &s.Language, &s.Outcome, &claimed); err != nil {
		return nil, err
	}
	var err error
	if s.Secret, err = t.open(secret); err != nil {
		return nil, fmt.Errorf("sign-in %d secret: %w", s.ID, err)
	}
	s.ResidentID = resident.Int64
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	s.UsedAt, s.ClaimedUntil = timePtr(used), timePtr(claimed)
	return &s, nil
}

func (t *tx) CreateSignIn(ctx context.Context, s *sparekey.SignIn) error {
	secret, err := t.seal(s.Secret)
	if err != nil {
		return fmt.Errorf("create sign-in: %w", err)
	}
	id, err := t.insert(ctx, "create sign-in", "", `
		INSERT INTO sign_ins (resident_id, handle_hash, token_hash, code_hash, ip, created_at, expires_at, attempts, used_at,
			user_agent, contact_kind, contact_hash, secret_sealed, language, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullID(s.ResidentID), s.HandleHash, s.TokenHash, s.CodeHash, s.IP, micros(s.CreatedAt), micros(s.ExpiresAt),
		s.Attempts, nullMicros(s.UsedAt), s.UserAgent, string(s.ContactKind), s.ContactHash, secret, s.Language, s.Outcome)
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// ClaimSignIns leases due unanswered sign-in requests, as
// ClaimBackupRequests does Get Code's.
func (t *tx) ClaimSignIns(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*sparekey.SignIn, error) {
	claimed, err := getAll(ctx, t, "claim sign-ins", t.scanSignIn, `
		WITH due AS MATERIALIZED (
			SELECT id FROM sign_ins
			WHERE outcome = ? AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY created_at, id LIMIT ? `+t.dialect.skipLocked()+`
		)
		UPDATE sign_ins SET claimed_until = ?, claimed_by = ?
		WHERE id IN (SELECT id FROM due) AND outcome = ? AND (claimed_until IS NULL OR claimed_until <= ?)
		RETURNING `+signInColumns,
		sparekey.OutcomePending, micros(now), limitOrAll(limit),
		micros(now.Add(lease)), t.claimant, sparekey.OutcomePending, micros(now))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(claimed, func(a, b *sparekey.SignIn) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return claimed, nil
}

// The messages name no hash: they may reach an anonymous visitor.

func (t *tx) SignInByHandleHash(ctx context.Context, hash string) (*sparekey.SignIn, error) {
	missing := notFound("sign-in not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "sign-in by handle", missing, t.scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE handle_hash = ? `+t.rowLock(), hash)
}

func (t *tx) SignInByTokenHash(ctx context.Context, hash string) (*sparekey.SignIn, error) {
	missing := notFound("sign-in not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "sign-in by token", missing, t.scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE token_hash = ? `+t.rowLock(), hash)
}

// UpdateSignIn writes a sign-in's answer and use. Answered (no longer
// pending), its lease is cleared; one the caller claimed (ClaimedUntil set)
// is updated only while still pending under that very lease, else
// ECONFLICT: another worker took it over, and the caller's transaction
// (its messages) rolls back, so a request is answered once.
func (t *tx) UpdateSignIn(ctx context.Context, s *sparekey.SignIn) error {
	secret, err := t.seal(s.Secret)
	if err != nil {
		return fmt.Errorf("update sign-in: %w", err)
	}
	clearClaim := ""
	if s.Outcome != sparekey.OutcomePending {
		clearClaim = ", claimed_until = NULL"
	}
	fence, args := "", []any{nullID(s.ResidentID), s.CodeHash, s.Attempts, nullMicros(s.UsedAt), micros(s.ExpiresAt), secret, s.Outcome, s.ID}
	if s.ClaimedUntil != nil {
		fence = ` AND outcome = ? AND claimed_until = ?`
		args = append(args, sparekey.OutcomePending, micros(*s.ClaimedUntil))
	}
	res, err := t.exec(ctx, `
		UPDATE sign_ins SET resident_id = ?, code_hash = ?, attempts = ?, used_at = ?, expires_at = ?, secret_sealed = ?, outcome = ?`+clearClaim+`
		WHERE id = ?`+fence, args...)
	if err != nil {
		return t.fail(err, "update sign-in", "")
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update sign-in: %w", err)
	} else if n == 0 && s.ClaimedUntil != nil {
		return sparekey.Errorf(sparekey.ECONFLICT, "sign-in %d was taken over by another worker", s.ID)
	} else if n == 0 {
		return notFound("sign-in %d not found", s.ID)
	}
	return nil
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
