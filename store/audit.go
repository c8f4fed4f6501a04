package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"sparekey"
)

// The audit trail and what locks reported.

const auditColumns = `id, occurred_at, actor, action, subject, ip, user_agent, detail`

func scanAuditEvent(row scanner) (*sparekey.AuditEvent, error) {
	var e sparekey.AuditEvent
	var at int64
	var detail string
	if err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.IP, &e.UserAgent, &detail); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
		return nil, fmt.Errorf("audit event %d detail: %w", e.ID, err)
	}
	e.At = fromMicros(at)
	return &e, nil
}

func (t *tx) RecordAudit(ctx context.Context, e *sparekey.AuditEvent) error {
	detail, err := json.Marshal(e.Detail) // a nil map is stored as null and read back as nil
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	id, err := t.insert(ctx, "record audit", "", `
		INSERT INTO audit_events (occurred_at, actor, action, subject, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		micros(e.At), e.Actor, e.Action, e.Subject, e.IP, e.UserAgent, string(detail))
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

func (t *tx) AuditEvents(ctx context.Context, limit int) ([]*sparekey.AuditEvent, error) {
	return getAll(ctx, t, "audit events", scanAuditEvent, `
		SELECT `+auditColumns+` FROM audit_events
		ORDER BY occurred_at DESC, id DESC LIMIT ?`, limitOrAll(limit))
}

// SearchAudit matches ActionPrefix by comparing the action's first
// characters (substr counts characters on both databases), not with LIKE,
// whose wildcards and case rules differ between them. Since is inclusive,
// Until exclusive.
func (t *tx) SearchAudit(ctx context.Context, f sparekey.AuditFilter) ([]*sparekey.AuditEvent, error) {
	var where []string
	var args []any
	if f.ActionPrefix != "" {
		where = append(where, "substr(action, 1, ?) = ?")
		args = append(args, utf8.RuneCountInString(f.ActionPrefix), f.ActionPrefix)
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Subject != "" {
		where = append(where, "subject = ?")
		args = append(args, f.Subject)
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "occurred_at < ?")
		args = append(args, micros(f.Until))
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY occurred_at DESC, id DESC LIMIT ?`
	args = append(args, limitOrAll(f.Limit))
	return getAll(ctx, t, "search audit", scanAuditEvent, query, args...)
}

const lockEventColumns = `id, lock_id, occurred_at, kind, slot, detail, resident_id`

func scanLockEvent(row scanner) (*sparekey.LockEvent, error) {
	var e sparekey.LockEvent
	var at int64
	var residentID sql.NullInt64
	if err := row.Scan(&e.ID, &e.LockID, &at, &e.Kind, &e.Slot, &e.Detail, &residentID); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	e.ResidentID = residentID.Int64
	return &e, nil
}

func (t *tx) RecordLockEvent(ctx context.Context, e *sparekey.LockEvent) error {
	id, err := t.insert(ctx, "record lock event", "", `
		INSERT INTO lock_events (lock_id, occurred_at, kind, slot, detail, resident_id)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		e.LockID, micros(e.At), string(e.Kind), e.Slot, e.Detail, nullID(e.ResidentID))
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

func (t *tx) LockEvents(ctx context.Context, lockID int64, limit int) ([]*sparekey.LockEvent, error) {
	return getAll(ctx, t, "lock events", scanLockEvent, `
		SELECT `+lockEventColumns+` FROM lock_events WHERE lock_id = ?
		ORDER BY occurred_at DESC, id DESC LIMIT ?`, lockID, limitOrAll(limit))
}
