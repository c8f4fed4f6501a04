package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"sparekey"
	"sparekey/store"
)

func TestInstances(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		tx := func(fn func(tx sparekey.Tx) error) { must(t, db.Tx(ctx, fn)) }
		list := func(since time.Time) (ids []string) {
			must(t, db.Read(ctx, func(tx sparekey.Tx) (err error) {
				ids, err = tx.Instances(ctx, since)
				return err
			}))
			return ids
		}
		tx(func(tx sparekey.Tx) error { return tx.Heartbeat(ctx, "b", t0) })
		tx(func(tx sparekey.Tx) error { return tx.Heartbeat(ctx, "a", t0.Add(-time.Minute)) })
		if got := list(t0.Add(-2 * time.Minute)); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("instances = %v, want [a b]", got)
		}
		if got := list(t0.Add(-30 * time.Second)); !slices.Equal(got, []string{"b"}) {
			t.Fatalf("instances alive in the last 30s = %v, want [b]", got)
		}
		tx(func(tx sparekey.Tx) error { return tx.Heartbeat(ctx, "a", t0) }) // a beats again
		if got := list(t0.Add(-30 * time.Second)); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("after a's heartbeat = %v", got)
		}
		tx(func(tx sparekey.Tx) error { return tx.RemoveInstance(ctx, "b") })
		if got := list(time.Time{}); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("after removing b = %v", got)
		}
		// A day of silence and it is forgotten at the next heartbeat.
		tx(func(tx sparekey.Tx) error { return tx.Heartbeat(ctx, "c", t0.Add(25*time.Hour)) })
		if got := list(time.Time{}); !slices.Equal(got, []string{"c"}) {
			t.Fatalf("after a day = %v, want [c]", got)
		}
	})
}
