package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sparekey"
)

// Meta reads one installation setting.
func (t *tx) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sparekey.Errorf(sparekey.ENOTFOUND, "setting %s not found", name)
	} else if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}

// SetMeta writes one installation setting, replacing its old value, in one
// statement: two writers cannot both find the setting missing.
func (t *tx) SetMeta(ctx context.Context, name, value string) error {
	_, err := t.exec(ctx, `
		INSERT INTO meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", name, err)
	}
	return nil
}

// Serialize makes transactions that name the same key take turns: it waits
// until no other transaction holds key and holds it until this one ends.
// A count-then-insert limit checked under it cannot be passed twice by two
// instances at once. With SQLite's single writer it has nothing to do.
func (t *tx) Serialize(ctx context.Context, key string) error {
	q := t.dialect.serialize()
	if q == "" {
		return nil
	}
	if _, err := t.exec(ctx, q, key); err != nil {
		return fmt.Errorf("serialize on %s: %w", key, err)
	}
	return nil
}
