package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
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

// Each claim names the instance that made it: releasing an instance's
// claims makes its requests, sign-ins and messages claimable at once,
// leases not yet run out; the others' claims stay.
func TestReleaseClaims(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateBackupRequest(ctx, newRequest("10.0.0.1", testkit.T0)))
			must(t, tx.CreateBackupRequest(ctx, newRequest("10.0.0.2", testkit.T0.Add(time.Second))))
			must(t, tx.CreateSignIn(ctx, &sparekey.SignIn{HandleHash: "handle", TokenHash: "token",
				CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(sparekey.SignInTTL), Secret: "token 123456",
				Outcome: sparekey.OutcomePending, ContactKind: sparekey.ContactEmail, ContactHash: "c"}))
			must(t, tx.CreateMessage(ctx, newMessage(sparekey.ChannelEmail, "ada@example.com", testkit.T0)))
		})
		// claim claims one of each, as instance id, under a lease of an
		// hour, and returns how many it got.
		claim := func(id string) (n int) {
			t.Helper()
			db.ClaimAs(id)
			inTx(t, db, func(tx sparekey.Tx) {
				rs, err := tx.ClaimBackupRequests(ctx, testkit.T0.Add(time.Minute), time.Hour, 1)
				must(t, err)
				ss, err := tx.ClaimSignIns(ctx, testkit.T0.Add(time.Minute), time.Hour, 1)
				must(t, err)
				ms, err := tx.ClaimMessages(ctx, []sparekey.Channel{sparekey.ChannelEmail}, testkit.T0.Add(time.Minute), time.Hour, 1)
				must(t, err)
				n = len(rs) + len(ss) + len(ms)
			})
			return n
		}
		release := func(id string) (n int) {
			t.Helper()
			inTx(t, db, func(tx sparekey.Tx) {
				var err error
				n, err = tx.ReleaseClaims(ctx, id)
				must(t, err)
			})
			return n
		}
		for _, step := range []struct {
			what string
			got  func() int
			want int
		}{
			{"a claims one of each", func() int { return claim("a") }, 3},
			{"b claims the request left", func() int { return claim("b") }, 1},
			{"c finds everything leased", func() int { return claim("c") }, 0},
			{"releasing c's claims", func() int { return release("c") }, 0},
			{"releasing a's claims", func() int { return release("a") }, 3},
			{"c claims what a held", func() int { return claim("c") }, 3},
			{"releasing a's claims again", func() int { return release("a") }, 0},
			{"releasing b's claims", func() int { return release("b") }, 1},
			{"releasing c's claims", func() int { return release("c") }, 3},
		} {
			if got := step.got(); got != step.want {
				t.Errorf("%s: %d, want %d", step.what, got, step.want)
			}
		}
	})
}
