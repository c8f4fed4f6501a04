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

// Backup requests and the links they lead to.

const backupRequestColumns = `id, contact_hash, contact_kind, ip, user_agent, outcome, resident_id,
	created_at, processed_at, attempts, claimed_until, language`

func scanBackupRequest(row scanner) (*sparekey.BackupRequest, error) {
	var r sparekey.BackupRequest
	var residentID, processedAt, claimedUntil sql.NullInt64
	var createdAt int64
	if err := row.Scan(&r.ID, &r.ContactHash, &r.ContactKind, &r.IP, &r.UserAgent, &r.Outcome, &residentID,
		&createdAt, &processedAt, &r.Attempts, &claimedUntil, &r.Language); err != nil {
		return nil, err
	}
	r.ClaimedUntil = timePtr(claimedUntil)
	r.ResidentID = residentID.Int64
	r.CreatedAt = fromMicros(createdAt)
	r.ProcessedAt = timePtr(processedAt)
	return &r, nil
}

func (t *tx) CreateBackupRequest(ctx context.Context, r *sparekey.BackupRequest) error {
	id, err := t.insert(ctx, "create backup request", "", `
		INSERT INTO backup_requests (contact_hash, contact_kind, ip, user_agent, outcome, resident_id,
			created_at, processed_at, attempts, language)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.ContactHash, string(r.ContactKind), r.IP, r.UserAgent, r.Outcome, nullID(r.ResidentID),
		micros(r.CreatedAt), nullMicros(r.ProcessedAt), r.Attempts, r.Language)
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

func (t *tx) CountBackupRequestsByIP(ctx context.Context, ip string, since time.Time) (int, error) {
	return t.count(ctx, "count backup requests", `
		SELECT COUNT(*) FROM backup_requests WHERE ip = ? AND created_at > ?`, ip, micros(since))
}

// ClaimBackupRequests leases due requests in one UPDATE … RETURNING. The
// rows are picked in a materialized CTE, evaluated once: on PostgreSQL with
// FOR UPDATE SKIP LOCKED, so a concurrent claimer skips the rows this one
// is taking instead of waiting for them, and a row leased meanwhile is
// re-checked and left out. The UPDATE checks the lease again: should a row
// ever be picked without its lock, PostgreSQL re-evaluates that condition
// on the row's newest version before it writes. On SQLite writers are
// serialized anyway.
func (t *tx) ClaimBackupRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*sparekey.BackupRequest, error) {
	claimed, err := getAll(ctx, t, "claim backup requests", scanBackupRequest, `
		WITH due AS MATERIALIZED (
			SELECT id FROM backup_requests
			WHERE outcome = ? AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY created_at, id LIMIT ? `+t.dialect.skipLocked()+`
		)
		UPDATE backup_requests SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM due) AND outcome = ? AND (claimed_until IS NULL OR claimed_until <= ?)
		RETURNING `+backupRequestColumns,
		sparekey.OutcomePending, micros(now), limitOrAll(limit),
		micros(now.Add(lease)), t.claimant, sparekey.OutcomePending, micros(now))
	if err != nil {
		return nil, err
	}
	// RETURNING keeps no order.
	slices.SortFunc(claimed, func(a, b *sparekey.BackupRequest) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return claimed, nil
}

// UpdateBackupRequest records the job's progress. Once the outcome is no
// longer pending the lease is cleared; a pending request keeps its lease, so
// a failed attempt is retried when it ends. A request claimed by the
// caller (ClaimedUntil set) is updated only while it is still pending under
// that very lease: otherwise another worker took it over, and the update
// is ECONFLICT, so the caller's transaction (its link and messages) rolls
// back and the request is answered once.
func (t *tx) UpdateBackupRequest(ctx context.Context, r *sparekey.BackupRequest) error {
	clearClaim := ""
	if r.Outcome != sparekey.OutcomePending {
		clearClaim = ", claimed_until = NULL"
	}
	fence, args := "", []any{r.Outcome, nullID(r.ResidentID), nullMicros(r.ProcessedAt), r.Attempts, r.ID}
	if r.ClaimedUntil != nil {
		fence = ` AND outcome = ? AND claimed_until = ?`
		args = append(args, sparekey.OutcomePending, micros(*r.ClaimedUntil))
	}
	res, err := t.exec(ctx, `
		UPDATE backup_requests SET outcome = ?, resident_id = ?, processed_at = ?, attempts = ?`+clearClaim+`
		WHERE id = ?`+fence, args...)
	if err != nil {
		return t.fail(err, "update backup request", "")
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update backup request: %w", err)
	} else if n == 0 && r.ClaimedUntil != nil {
		return sparekey.Errorf(sparekey.ECONFLICT, "backup request %d was taken over by another worker", r.ID)
	} else if n == 0 {
		return notFound("backup request %d not found", r.ID)
	}
	return nil
}

func (t *tx) DeleteBackupRequestsBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	// A link names its request (a foreign key) and outlives it. Only a
	// request answered sent has a link, and it was answered within the
	// link's 30 minutes: none is answered meanwhile among day-old ones.
	if _, err := t.exec(ctx, `
		UPDATE backup_links SET request_id = NULL
		WHERE request_id IN (SELECT id FROM backup_requests WHERE created_at < ? AND outcome <> ?)`,
		micros(before), sparekey.OutcomePending); err != nil {
		return 0, fmt.Errorf("unlink old backup requests: %w", err)
	}
	res, err := t.exec(ctx, `
		DELETE FROM backup_requests WHERE id IN (
			SELECT id FROM backup_requests WHERE created_at < ? AND outcome <> ? LIMIT ?)`,
		micros(before), sparekey.OutcomePending, limitOrAll(limit))
	if err != nil {
		return 0, fmt.Errorf("delete old backup requests: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete old backup requests: %w", err)
	}
	return int(n), nil
}

const backupLinkColumns = `id, token_hash, resident_id, request_id, created_at, expires_at,
	revoked_at, revealed_at, reveals, language`

func scanBackupLink(row scanner) (*sparekey.BackupLink, error) {
	var l sparekey.BackupLink
	var requestID, revokedAt, revealedAt sql.NullInt64
	var createdAt, expiresAt int64
	if err := row.Scan(&l.ID, &l.TokenHash, &l.ResidentID, &requestID, &createdAt, &expiresAt,
		&revokedAt, &revealedAt, &l.Reveals, &l.Language); err != nil {
		return nil, err
	}
	l.RequestID = requestID.Int64
	l.CreatedAt = fromMicros(createdAt)
	l.ExpiresAt = fromMicros(expiresAt)
	l.RevokedAt = timePtr(revokedAt)
	l.RevealedAt = timePtr(revealedAt)
	return &l, nil
}

func (t *tx) CreateBackupLink(ctx context.Context, l *sparekey.BackupLink) error {
	id, err := t.insert(ctx, "create backup link", "backup link already exists", `
		INSERT INTO backup_links (token_hash, resident_id, request_id, created_at, expires_at,
			revoked_at, revealed_at, reveals, language)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.TokenHash, l.ResidentID, nullID(l.RequestID), micros(l.CreatedAt), micros(l.ExpiresAt),
		nullMicros(l.RevokedAt), nullMicros(l.RevealedAt), l.Reveals, l.Language)
	if err != nil {
		return err
	}
	l.ID = id
	return nil
}

// BackupLinkByTokenHash finds a link. In a read-write transaction on
// PostgreSQL the link's row stays locked until commit, so concurrent reveals
// or revocations of one link take turns (and no reveal is lost).
func (t *tx) BackupLinkByTokenHash(ctx context.Context, hash string) (*sparekey.BackupLink, error) {
	return getOne(ctx, t, "backup link", notFound("backup link not found"), scanBackupLink,
		`SELECT `+backupLinkColumns+` FROM backup_links WHERE token_hash = ? `+t.rowLock(), hash)
}

// UpdateBackupLink writes the link's life cycle: expiry, revocation and reveals.
func (t *tx) UpdateBackupLink(ctx context.Context, l *sparekey.BackupLink) error {
	return t.update(ctx, "update backup link", notFound("backup link %d not found", l.ID), "", `
		UPDATE backup_links SET expires_at = ?, revoked_at = ?, revealed_at = ?, reveals = ?
		WHERE id = ?`,
		micros(l.ExpiresAt), nullMicros(l.RevokedAt), nullMicros(l.RevealedAt), l.Reveals, l.ID)
}

func (t *tx) RevokeBackupLinks(ctx context.Context, residentID int64, now time.Time) error {
	_, err := t.exec(ctx, `
		UPDATE backup_links SET revoked_at = ?
		WHERE resident_id = ? AND revoked_at IS NULL AND expires_at > ?`,
		micros(now), residentID, micros(now))
	if err != nil {
		return t.fail(err, "revoke backup links", "")
	}
	return nil
}

func (t *tx) CountBackupLinksSince(ctx context.Context, residentID int64, since time.Time) (int, error) {
	return t.count(ctx, "count backup links", `
		SELECT COUNT(*) FROM backup_links WHERE resident_id = ? AND created_at > ?`, residentID, micros(since))
}

func (t *tx) AddBackupLinkSlot(ctx context.Context, linkID, slotID int64) error {
	const conflict = "slot is already on the backup link"
	err := t.mayConflict(ctx, conflict, func() error {
		_, err := t.exec(ctx, `INSERT INTO backup_link_slots (link_id, slot_id) VALUES (?, ?)`, linkID, slotID)
		return err
	})
	if err != nil {
		return t.fail(err, "add backup link slot", conflict)
	}
	return nil
}

func (t *tx) BackupLinkSlots(ctx context.Context, linkID int64) ([]*sparekey.Slot, error) {
	return getAll(ctx, t, "backup link slots", t.scanSlot, `
		SELECT `+slotColumns+` FROM slots
		WHERE id IN (SELECT slot_id FROM backup_link_slots WHERE link_id = ?)
		ORDER BY lock_id, number`, linkID)
}
