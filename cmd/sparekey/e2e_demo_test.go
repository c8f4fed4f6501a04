package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/cluster"
	"sparekey/internal/testkit"
	"sparekey/store"
)

// openDemoDB makes an empty database with its key file, as a first serve
// would, and returns it open.
func openDemoDB(t *testing.T) (string, *store.DB) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sparekey.db")
	return db, openWithKeyFile(t, db)
}

// TestDemoRestartsAfterACrash: a demo that died without signing off stays
// registered for one TTL; a demo started on its database within that time
// waits for it to expire instead of refusing, as if two instances ran.
func TestDemoRestartsAfterACrash(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server)")
	t.Parallel()
	db, st := openDemoDB(t)
	err := st.Tx(t.Context(), func(tx sparekey.Tx) error {
		return tx.Heartbeat(t.Context(), "crashed-demo", "gone", time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A TTL long enough that the dead demo is still registered when this
	// one starts, however slow the machine (under -race it takes a while).
	s := startServerOn(t, db, "--instance-ttl", "4s")
	if !strings.Contains(s.stderr.String(), "waiting for it to expire") {
		t.Errorf("the demo did not say why it waited:\n%s", s.stderr)
	}
}

// TestDemoRefusesAnotherLiveInstance: a live instance on the database is
// another server the demo's own broker cannot share with; the demo says so
// and names it.
func TestDemoRefusesAnotherLiveInstance(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server)")
	t.Parallel()
	db, st := openDemoDB(t)
	other := cluster.New(cluster.Config{Store: st, ID: "other-server", TTL: 3 * time.Second}) // beats every second: alive to a slow machine too
	if err := other.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// While the demo waits it must not register: it would take a share of
	// the live instance's locks.
	var crowded atomic.Bool
	stopWatch := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
				crowded.Store(crowded.Load() || len(other.Members()) > 1)
			}
		}
	}()
	stderr := &testkit.SyncBuffer{}
	err := run(ctx, []string{"sparekey", "serve", "--demo", "--addr", freeAddr(t), "--db", db, "--instance-ttl", "3s"},
		func(string) string { return "" }, strings.NewReader(""), &testkit.SyncBuffer{}, stderr)
	close(stopWatch)
	if err == nil || !strings.Contains(err.Error(), "another Sparekey instance is running on this database (other-server)") {
		t.Errorf("demo next to a live instance = %v\n%s", err, stderr)
	}
	if crowded.Load() {
		t.Error("the demo registered on the database while it waited for the other instance")
	}
}

// TestDemoTakesBackItsClaimsAfterACrash: a Get Code request that the last
// run had claimed when it died (its lease still an hour long) is answered
// as soon as the demo, the same instance, starts again.
func TestDemoTakesBackItsClaimsAfterACrash(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server)")
	t.Parallel()
	db, st := openDemoDB(t)
	keys, _, err := loadKeys("", db)
	if err != nil {
		t.Fatal(err)
	}
	const phone = "+12015550101" // a demo resident's
	st.ClaimAs("demo")
	err = st.Tx(t.Context(), func(tx sparekey.Tx) error {
		now := time.Now()
		err := tx.CreateBackupRequest(t.Context(), &sparekey.BackupRequest{
			ContactHash: keys.Hash(sparekey.HashContact, phone), ContactKind: sparekey.ContactPhone,
			IP: "203.0.113.7", Outcome: sparekey.OutcomePending, CreatedAt: now, Language: "en"})
		if err != nil {
			return err
		}
		claimed, err := tx.ClaimBackupRequests(t.Context(), now, time.Hour, 0)
		if err == nil && len(claimed) != 1 {
			err = fmt.Errorf("claimed %d requests, want 1", len(claimed))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // the server uses the file next
	s := startServerOn(t, db)
	s.waitMessages(phone, "backup_link", 1)
	if !strings.Contains(s.stderr.String(), "took back the claims") {
		t.Errorf("the demo did not say it took its claims back:\n%s", s.stderr)
	}
}
