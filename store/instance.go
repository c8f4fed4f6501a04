package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sparekey"
)

// Heartbeat records that instance id, run by process, is alive, on the
// database's clock, and forgets instances silent for a day. If another
// process has heartbeated under the same id within ttl, it records nothing
// and returns ECONFLICT: two processes must not share an id.
func (t *tx) Heartbeat(ctx context.Context, id, process string, ttl time.Duration) error {
	now := t.dialect.nowMicros()
	var other string
	var alive bool
	err := t.queryRow(ctx, `SELECT process, heartbeat_at >= `+now+` - ? FROM instances WHERE id = ?`,
		ttl.Microseconds(), id).Scan(&other, &alive)
	switch {
	case err == nil && other != process && alive:
		return sparekey.Errorf(sparekey.ECONFLICT, "instance id %q is in use by another running process; give each instance its own --instance-id", id)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("heartbeat of instance %s: %w", id, err)
	}
	_, err = t.exec(ctx, `
		INSERT INTO instances (id, process, started_at, heartbeat_at) VALUES (?, ?, `+now+`, `+now+`)
		ON CONFLICT (id) DO UPDATE SET process = excluded.process, heartbeat_at = excluded.heartbeat_at`, id, process)
	if err != nil {
		return fmt.Errorf("heartbeat of instance %s: %w", id, err)
	}
	if _, err := t.exec(ctx, `DELETE FROM instances WHERE heartbeat_at < `+now+` - ?`, (24 * time.Hour).Microseconds()); err != nil {
		return fmt.Errorf("forget silent instances: %w", err)
	}
	return nil
}

func (t *tx) ReleaseClaims(ctx context.Context, id string) (int, error) {
	released := 0
	for _, table := range []string{"backup_requests", "sign_ins", "messages"} {
		res, err := t.exec(ctx, `UPDATE `+table+` SET claimed_until = NULL, claimed_by = NULL
			WHERE claimed_by = ? AND claimed_until IS NOT NULL`, id)
		if err != nil {
			return 0, fmt.Errorf("release the claims of instance %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("release the claims of instance %s: %w", id, err)
		}
		released += int(n)
	}
	return released, nil
}

// Instances returns the ids of the instances heard from within ttl, on the
// database's clock, sorted.
func (t *tx) Instances(ctx context.Context, ttl time.Duration) ([]string, error) {
	rows, err := t.query(ctx, `SELECT id FROM instances WHERE heartbeat_at >= `+t.dialect.nowMicros()+` - ? ORDER BY id`,
		ttl.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RemoveInstance forgets an instance that is shutting down, so the others
// take its share at once; only the process that runs it may.
func (t *tx) RemoveInstance(ctx context.Context, id, process string) error {
	if _, err := t.exec(ctx, `DELETE FROM instances WHERE id = ? AND process = ?`, id, process); err != nil {
		return fmt.Errorf("remove instance %s: %w", id, err)
	}
	return nil
}
