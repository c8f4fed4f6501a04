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
		beat := func(id, process string) error {
			return db.Tx(ctx, func(tx sparekey.Tx) error { return tx.Heartbeat(ctx, id, process, time.Minute) })
		}
		list := func(ttl time.Duration) (ids []string) {
			must(t, db.Read(ctx, func(tx sparekey.Tx) (err error) {
				ids, err = tx.Instances(ctx, ttl)
				return err
			}))
			return ids
		}
		must(t, beat("b", "p1"))
		must(t, beat("a", "p2"))
		if got := list(time.Minute); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("instances = %v, want [a b]", got)
		}
		must(t, beat("a", "p2")) // the same process again
		wantCode(t, beat("a", "p3"), sparekey.ECONFLICT)
		time.Sleep(30 * time.Millisecond)
		if got := list(20 * time.Millisecond); len(got) != 0 {
			t.Fatalf("instances heard within 20ms after a 30ms silence = %v", got)
		}
		must(t, db.Tx(ctx, func(tx sparekey.Tx) error { return tx.RemoveInstance(ctx, "b", "someone else") }))
		must(t, db.Tx(ctx, func(tx sparekey.Tx) error { return tx.RemoveInstance(ctx, "a", "p2") }))
		if got := list(time.Hour); !slices.Equal(got, []string{"b"}) {
			t.Fatalf("after removing a (and refusing to remove b for another process) = %v", got)
		}
	})
}
