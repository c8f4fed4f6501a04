package notify

import (
	"context"
	"fmt"
	"time"

	"sparekey"
)

// Queue puts m in the outbox, due at now, with a message.queued line in
// the audit trail about subject ("resident:3", "work_order:7"). It runs in
// the caller's transaction, so the message is sent only if what it tells
// of is committed, and then at least once.
func Queue(ctx context.Context, tx sparekey.Tx, now time.Time, subject string, m *sparekey.Message) error {
	m.Status, m.CreatedAt, m.NextAttemptAt = sparekey.MessageQueued, now, now
	if err := tx.CreateMessage(ctx, m); err != nil {
		return err
	}
	return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: "system", Action: "message.queued", Subject: subject,
		Detail: map[string]string{"message": fmt.Sprint(m.ID), "channel": string(m.Channel), "kind": m.Kind}})
}
