package sparekey

import (
	"context"
	"strconv"
	"time"
)

// Channel is how a message travels.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// MessageStatus is an outbox row's life cycle.
type MessageStatus string

const (
	MessageQueued    MessageStatus = "queued"
	MessageSent      MessageStatus = "sent"
	MessageFailed    MessageStatus = "failed" // failed at least once; will be retried
	MessageAbandoned MessageStatus = "abandoned"
	// MessageExpired is final: what the message carries (a backup link, a
	// sign-in code) ran out before it could be sent, so it never was.
	MessageExpired MessageStatus = "expired"
)

// Message is an outbox row: written in the same transaction as whatever
// caused it and sent later by the outbox worker. Body and HTML are sealed
// at rest because a backup link's token is in them.
type Message struct {
	ID            int64
	Channel       Channel
	To            string
	Subject       string
	Body          string // plain text
	HTML          string // email only, optional
	Kind          string // e.g. backup_link, code_revealed
	Status        MessageStatus
	Attempts      int
	NextAttemptAt time.Time
	// ValidUntil is when the message stops being worth sending (its link
	// or code expires); zero for a message that keeps. Set by whoever
	// queues it.
	ValidUntil time.Time
	LastError  string
	ProviderID string
	CreatedAt  time.Time
	SentAt     *time.Time
}

// QueueMessage puts m in the outbox, due at now, with a message.queued
// line in the audit trail about subject ("resident:3", "work_order:7"). It
// runs in the caller's transaction, so the message is sent only if what it
// tells of is committed, and then at least once.
func QueueMessage(ctx context.Context, tx interface {
	OutboxStore
	AuditStore
}, now time.Time, subject string, m *Message) error {
	m.Status, m.CreatedAt, m.NextAttemptAt = MessageQueued, now, now
	if err := tx.CreateMessage(ctx, m); err != nil {
		return err
	}
	return tx.RecordAudit(ctx, &AuditEvent{At: now, Actor: "system", Action: "message.queued", Subject: subject,
		Detail: map[string]string{"message": strconv.FormatInt(m.ID, 10), "channel": string(m.Channel), "kind": m.Kind}})
}

// OutboxStore keeps the outbox.
type OutboxStore interface {
	CreateMessage(ctx context.Context, m *Message) error
	// ClaimMessages leases up to limit queued or failed messages of the given
	// channels whose NextAttemptAt <= now, until now+lease.
	ClaimMessages(ctx context.Context, channels []Channel, now time.Time, lease time.Duration, limit int) ([]*Message, error)
	UpdateMessage(ctx context.Context, m *Message) error
	// Messages lists messages newest first; to filters by recipient when set.
	Messages(ctx context.Context, to string, limit int) ([]*Message, error)
	// CountMessagesSince counts messages of a channel created after t; to
	// filters by recipient when set. (All Count…Since windows exclude t, so
	// a one-minute window ends exactly one minute after a request.)
	CountMessagesSince(ctx context.Context, channel Channel, to string, since time.Time) (int, error)
}
