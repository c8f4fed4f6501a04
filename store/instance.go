package store

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat records that the instance is alive at now, adding it the first
// time, and forgets instances silent for a day.
func (t *tx) Heartbeat(ctx context.Context, id string, now time.Time) error {
	_, err := t.exec(ctx, `
		INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, id, micros(now), micros(now))
	if err != nil {
		return fmt.Errorf("heartbeat of instance %s: %w", id, err)
	}
	if _, err := t.exec(ctx, `DELETE FROM instances WHERE heartbeat_at < ?`, micros(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("forget silent instances: %w", err)
	}
	return nil
}

// Instances returns the ids of the instances heard from since since, sorted.
func (t *tx) Instances(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := t.query(ctx, `SELECT id FROM instances WHERE heartbeat_at >= ? ORDER BY id`, micros(since))
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
// take its share at once.
func (t *tx) RemoveInstance(ctx context.Context, id string) error {
	if _, err := t.exec(ctx, `DELETE FROM instances WHERE id = ?`, id); err != nil {
		return fmt.Errorf("remove instance %s: %w", id, err)
	}
	return nil
}
