package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/cluster"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/secret"
	"sparekey/store"
)

func TestOwnerSpreadsAndMovesLittle(t *testing.T) {
	devices := make([]string, 3000)
	for i := range devices {
		devices[i] = fmt.Sprintf("unit-%04d-front", i)
	}
	two := []string{"a", "b"}
	three := []string{"a", "b", "c"}
	count := map[string]int{}
	moved := 0
	for _, d := range devices {
		o2, o3 := cluster.Owner(two, d), cluster.Owner(three, d)
		count[o3]++
		if o2 != o3 && o3 != "c" {
			moved++ // a lock moved between a and b when c joined: never should
		}
	}
	if moved != 0 {
		t.Errorf("%d locks moved between the old members when a third joined", moved)
	}
	for _, id := range three {
		if count[id] < 800 || count[id] > 1200 {
			t.Errorf("%s owns %d of 3000 locks; want about 1000 each: %v", id, count[id], count)
		}
	}
	if cluster.Owner(nil, "x") != "" {
		t.Error("no members, yet an owner")
	}
}

// TestMembersShareTheLocks: two members on one database agree on every
// lock's owner, never both at once; when one stops, the other owns
// everything; a third process with a member's ID is refused.
func TestMembersShareTheLocks(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "sparekey.db") },
		"postgres": func(t *testing.T) string { return pgtest.Schema(t) },
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, dsn(t), secret.ForTest())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			changes := make(chan string, 10)
			a := cluster.New(cluster.Config{Store: db, ID: "a", TTL: 300 * time.Millisecond, OnChange: func() { changes <- "a" }})
			b := cluster.New(cluster.Config{Store: db, ID: "b", TTL: 300 * time.Millisecond})
			if !a.Owns("unit-101-front") || !b.Owns("unit-101-front") {
				t.Fatal("before Start a member owns every lock")
			}
			if err := a.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer b.Stop()
			// b has joined a: it owns nothing until a has surely seen it.
			for i := range 200 {
				if d := fmt.Sprintf("lock-%d", i); a.Owns(d) && b.Owns(d) {
					t.Fatalf("%s has two owners while b joins", d)
				}
			}
			waitFor(t, "each lock owned by exactly one, b by some", func() bool {
				byB := 0
				for i := range 200 {
					d := fmt.Sprintf("lock-%d", i)
					if a.Owns(d) == b.Owns(d) {
						return false
					}
					if b.Owns(d) {
						byB++
					}
				}
				return byB > 0
			})
			ownedByA, ownedByB := 0, 0
			for i := range 200 {
				d := fmt.Sprintf("lock-%d", i)
				if a.Owns(d) {
					ownedByA++
				} else {
					ownedByB++
				}
			}
			if ownedByA < 50 || ownedByB < 50 {
				t.Fatalf("a owns %d, b %d of 200", ownedByA, ownedByB)
			}
			twin := cluster.New(cluster.Config{Store: db, ID: "a", TTL: 300 * time.Millisecond})
			if err := twin.Start(ctx); sparekey.ErrorCode(err) != sparekey.ECONFLICT {
				t.Fatalf("a second process with id a: %v, want conflict", err)
			}
			a.Stop()
			waitFor(t, "b alone", func() bool { return len(b.Members()) == 1 })
			for i := range 200 {
				if d := fmt.Sprintf("lock-%d", i); !b.Owns(d) {
					t.Fatalf("b does not own %s after a stopped", d)
				}
			}
			select {
			case <-changes:
			case <-time.After(time.Second):
				t.Error("a's OnChange never ran when b joined")
			}
		})
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failing is a store whose transactions fail while down is set, as when the
// database cannot be reached.
type failing struct {
	sparekey.Store
	down atomic.Bool
}

func (f *failing) Tx(ctx context.Context, fn func(sparekey.Tx) error) error {
	if f.down.Load() {
		return errors.New("database unreachable")
	}
	return f.Store.Tx(ctx, fn)
}

// TestLapseGivesTheLocksBack: a member whose heartbeat cannot reach the
// database for longer than the TTL owns nothing meanwhile (the others may
// have taken its share). When a heartbeat gets through again it owns its
// share again, counts the lapse and runs OnChange, so the locks are taken
// back like new ones even though the members are the same.
func TestLapseGivesTheLocksBack(t *testing.T) {
	ctx := context.Background()
	db := testkit.OpenDB(t)
	f := &failing{Store: db}
	changes := make(chan struct{}, 10)
	m := cluster.New(cluster.Config{Store: f, ID: "a", TTL: 300 * time.Millisecond, OnChange: func() { changes <- struct{}{} }})
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if !m.Owns("unit-101-front") || m.Lapses() != 0 {
		t.Fatalf("alone and heartbeating: owns %v, lapses %d", m.Owns("unit-101-front"), m.Lapses())
	}
	f.down.Store(true)
	waitFor(t, "owning nothing once the heartbeat is a TTL old", func() bool { return !m.Owns("unit-101-front") })
	for len(changes) > 0 {
		<-changes
	}
	f.down.Store(false)
	waitFor(t, "owning the lock again", func() bool { return m.Owns("unit-101-front") })
	if m.Lapses() != 1 {
		t.Fatalf("lapses = %d after one, want 1", m.Lapses())
	}
	select {
	case <-changes:
	case <-time.After(time.Second):
		t.Fatal("OnChange did not run after the lapse, though the members are the same")
	}
}

// TestLapseAmongOthersWaitsLikeAJoin: when others are alive they take a
// lapsed member's locks, and keep them until their next heartbeat sees it
// again. Back, the member owns nothing until then, as a joining member
// does, so no lock has two owners; then it takes its share again.
func TestLapseAmongOthersWaitsLikeAJoin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.OpenDB(t)
	f := &failing{Store: db}
	a := cluster.New(cluster.Config{Store: db, ID: "a", TTL: 300 * time.Millisecond})
	b := cluster.New(cluster.Config{Store: f, ID: "b", TTL: 300 * time.Millisecond})
	for _, m := range []*cluster.Member{a, b} {
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer m.Stop()
	}
	locks := make([]string, 200)
	for i := range locks {
		locks[i] = fmt.Sprintf("lock-%d", i)
	}
	owns := func(m *cluster.Member) (n int) {
		for _, d := range locks {
			if m.Owns(d) {
				n++
			}
		}
		return n
	}
	waitFor(t, "b owning its share", func() bool { return owns(b) > 0 && owns(a)+owns(b) == len(locks) })
	f.down.Store(true)
	waitFor(t, "a owning every lock while b is away", func() bool { return owns(a) == len(locks) })
	f.down.Store(false)
	waitFor(t, "b back", func() bool { return b.Lapses() == 1 })
	if n := owns(b); n != 0 {
		t.Fatalf("b owns %d locks the moment it is back, while a may still own them all", n)
	}
	waitFor(t, "b owning its share again", func() bool { return owns(b) > 0 && owns(a)+owns(b) == len(locks) })
}
