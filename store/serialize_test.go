package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
)

// TestSerialize: two stores on one database (two instances) take turns on
// a key, and do not wait for each other on different keys.
func TestSerialize(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		one, two := openDB(t, dsn), openDB(t, dsn)
		var committed atomic.Bool
		held := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- one.Tx(ctx, func(tx sparekey.Tx) error {
				if err := tx.Serialize(ctx, "limit:ana"); err != nil {
					return err
				}
				close(held)
				time.Sleep(300 * time.Millisecond)
				return nil
			})
			committed.Store(true)
		}()
		<-held
		// Another key does not wait (on SQLite there is one writer anyway,
		// so the check is PostgreSQL's).
		if dsn[:8] == "postgres" {
			start := time.Now()
			must(t, two.Tx(ctx, func(tx sparekey.Tx) error { return tx.Serialize(ctx, "limit:ben") }))
			if time.Since(start) > 200*time.Millisecond {
				t.Errorf("a different key waited %s", time.Since(start))
			}
		}
		err := two.Tx(ctx, func(tx sparekey.Tx) error {
			if err := tx.Serialize(ctx, "limit:ana"); err != nil {
				return err
			}
			if !committed.Load() {
				// The first transaction ends right after committing; allow
				// the flag a moment to be set.
				time.Sleep(20 * time.Millisecond)
				if !committed.Load() {
					t.Error("the second transaction took the key while the first held it")
				}
			}
			return nil
		})
		must(t, err)
		must(t, <-done)
	})
}
