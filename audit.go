package sparekey

import (
	"context"
	"time"
)

// AuditEvent is one line of the audit trail.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Actor     string // "system", "resident:12", "staff:admin", "anonymous"
	Action    string // e.g. backup.requested, link.revealed
	Subject   string // e.g. "resident:12", "lock:unit-101-front", "link:7"
	IP        string
	UserAgent string
	Detail    map[string]string
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	ActionPrefix string // e.g. "work_order." or "lock.jammed"
	Actor        string // exact, e.g. "staff:3"
	Subject      string // exact, e.g. "lock:unit-101-front"
	Since, Until time.Time
	Limit        int
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	RecordAudit(ctx context.Context, e *AuditEvent) error
	AuditEvents(ctx context.Context, limit int) ([]*AuditEvent, error)
	// SearchAudit lists audit events newest first that match f.
	SearchAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}
