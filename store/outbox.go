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

// The message outbox. Body and HTML are sealed at rest: a backup link's
// token travels in them.

const messageColumns = `id, channel, recipient, subject, body_sealed, html_sealed, kind, status,
	attempts, next_attempt_at, last_error, provider_id, created_at, sent_at, valid_until`

func (t *tx) scanMessage(row scanner) (*sparekey.Message, error) {
	var m sparekey.Message
	var body, html []byte
	var nextAttemptAt, createdAt int64
	var sentAt, validUntil sql.NullInt64
	if err := row.Scan(&m.ID, &m.Channel, &m.To, &m.Subject, &body, &html, &m.Kind, &m.Status,
		&m.Attempts, &nextAttemptAt, &m.LastError, &m.ProviderID, &createdAt, &sentAt, &validUntil); err != nil {
		return nil, err
	}
	var err error
	if m.Body, err = t.open(body); err != nil {
		return nil, fmt.Errorf("message %d body: %w", m.ID, err)
	}
	if m.HTML, err = t.open(html); err != nil {
		return nil, fmt.Errorf("message %d html: %w", m.ID, err)
	}
	m.NextAttemptAt = fromMicros(nextAttemptAt)
	m.CreatedAt = fromMicros(createdAt)
	m.SentAt = timePtr(sentAt)
	if validUntil.Valid {
		m.ValidUntil = fromMicros(validUntil.Int64)
	}
	return &m, nil
}

func (t *tx) CreateMessage(ctx context.Context, m *sparekey.Message) error {
	body, err := t.seal(m.Body)
	if err != nil {
		return fmt.Errorf("create message: %w", err)
	}
	html, err := t.seal(m.HTML)
	if err != nil {
		return fmt.Errorf("create message: %w", err)
	}
	id, err := t.insert(ctx, "create message", "", `
		INSERT INTO messages (channel, recipient, subject, body_sealed, html_sealed, kind, status,
			attempts, next_attempt_at, last_error, provider_id, created_at, sent_at, valid_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(m.Channel), m.To, m.Subject, body, html, m.Kind, string(m.Status),
		m.Attempts, micros(m.NextAttemptAt), m.LastError, m.ProviderID, micros(m.CreatedAt), nullMicros(m.SentAt),
		nullMicros(nonZero(m.ValidUntil)))
	if err != nil {
		return err
	}
	m.ID = id
	return nil
}

// ClaimMessages claims like ClaimBackupRequests: one UPDATE … RETURNING of
// the due rows, picked once and, on PostgreSQL, skipping rows being claimed.
// The earliest due go first: a message that failed waits behind those
// queued before its retry, so one stuck on a hung provider does not lead
// every batch.
func (t *tx) ClaimMessages(ctx context.Context, channels []sparekey.Channel, now time.Time, lease time.Duration, limit int) ([]*sparekey.Message, error) {
	if len(channels) == 0 {
		return []*sparekey.Message{}, nil
	}
	args := []any{}
	for _, c := range channels {
		args = append(args, string(c))
	}
	args = append(args, string(sparekey.MessageQueued), string(sparekey.MessageFailed), micros(now), micros(now),
		limitOrAll(limit), micros(now.Add(lease)), t.claimant,
		string(sparekey.MessageQueued), string(sparekey.MessageFailed), micros(now))
	claimed, err := getAll(ctx, t, "claim messages", t.scanMessage, `
		WITH due AS MATERIALIZED (
			SELECT id FROM messages
			WHERE channel IN (`+placeholders(len(channels))+`) AND status IN (?, ?) AND next_attempt_at <= ?
				AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY next_attempt_at, id LIMIT ? `+t.dialect.skipLocked()+`
		)
		UPDATE messages SET claimed_until = ?, claimed_by = ?
		WHERE id IN (SELECT id FROM due) AND status IN (?, ?) AND (claimed_until IS NULL OR claimed_until <= ?)
		RETURNING `+messageColumns, args...)
	if err != nil {
		return nil, err
	}
	// RETURNING keeps no order.
	slices.SortFunc(claimed, func(a, b *sparekey.Message) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return claimed, nil
}

// UpdateMessage records a delivery attempt and ends the worker's lease.
func (t *tx) UpdateMessage(ctx context.Context, m *sparekey.Message) error {
	return t.update(ctx, "update message", notFound("message %d not found", m.ID), "", `
		UPDATE messages SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, provider_id = ?,
			sent_at = ?, claimed_until = NULL
		WHERE id = ?`,
		string(m.Status), m.Attempts, micros(m.NextAttemptAt), m.LastError, m.ProviderID, nullMicros(m.SentAt), m.ID)
}

func (t *tx) Messages(ctx context.Context, to string, limit int) ([]*sparekey.Message, error) {
	where, args := recipientFilter("1 = 1", to)
	return getAll(ctx, t, "messages", t.scanMessage, `
		SELECT `+messageColumns+` FROM messages
		WHERE `+where+`
		ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limitOrAll(limit))...)
}

func (t *tx) CountMessagesSince(ctx context.Context, channel sparekey.Channel, to string, since time.Time) (int, error) {
	where, args := recipientFilter("channel = ? AND created_at > ?", to, string(channel), micros(since))
	return t.count(ctx, "count messages", `SELECT COUNT(*) FROM messages WHERE `+where, args...)
}

// nonZero is t, or nil for the zero time (stored as NULL).
func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// recipientFilter adds "recipient = to" to a WHERE clause when to is set.
func recipientFilter(where, to string, args ...any) (string, []any) {
	if to != "" {
		where += " AND recipient = ?"
		args = append(args, to)
	}
	return where, args
}
