package store_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/secret"
	"sparekey/store"
)

// Concurrency across instances: every test here opens two stores on one
// database, as two Sparekey processes would. On SQLite they take turns at
// the file's write lock; on PostgreSQL they really run at once.

// Two instances claiming at once never get the same backup request or
// message, and every due row is claimed exactly once.
func TestConcurrentClaimers(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		a, b := openDB(t, dsn), openDB(t, dsn)
		const rows = 60
		inTx(t, a, func(tx sparekey.Tx) {
			for i := range rows {
				at := testkit.T0.Add(-time.Duration(i) * time.Second)
				must(t, tx.CreateBackupRequest(t.Context(), newRequest(fmt.Sprint("10.0.0.", i), at)))
				must(t, tx.CreateMessage(t.Context(), newMessage(sparekey.ChannelSMS, fmt.Sprint("+1555555", i), at)))
			}
		})

		var mu sync.Mutex
		requests, messages := map[int64]int{}, map[int64]int{} // id → times claimed
		var wg sync.WaitGroup
		for i := range 6 {
			db := []*store.DB{a, b}[i%2]
			wg.Go(func() {
				for {
					var reqs []*sparekey.BackupRequest
					var msgs []*sparekey.Message
					err := db.Tx(t.Context(), func(tx sparekey.Tx) (err error) {
						if reqs, err = tx.ClaimBackupRequests(t.Context(), testkit.T0, time.Hour, 3); err != nil {
							return err
						}
						if msgs, err = tx.ClaimMessages(t.Context(), []sparekey.Channel{sparekey.ChannelSMS}, testkit.T0, time.Hour, 3); err != nil {
							return err
						}
						time.Sleep(2 * time.Millisecond) // hold the claimed rows while the others claim
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, r := range reqs {
						requests[r.ID]++
						if r.Attempts != 1 {
							t.Errorf("request %d claimed with attempts %d, want 1", r.ID, r.Attempts)
						}
					}
					for _, m := range msgs {
						messages[m.ID]++
					}
					mu.Unlock()
					if len(reqs) == 0 && len(msgs) == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		for what, claimed := range map[string]map[int64]int{"request": requests, "message": messages} {
			if len(claimed) != rows {
				t.Errorf("%d %ss claimed, want %d", len(claimed), what, rows)
			}
			for id, n := range claimed {
				if n != 1 {
					t.Errorf("%s %d claimed %d times", what, id, n)
				}
			}
		}
	})
}

// A transaction that reads a lock, its slots or a backup link and writes
// them back owns them until it commits: a second instance doing the same
// at the same time waits and then sees the first one's write, so no update
// is lost and no pool code is issued twice.
func TestReadThenWriteTakesTurns(t *testing.T) {
	type fixtureDB struct {
		f      fixture
		link   *sparekey.BackupLink
		issued *atomic.Int32 // pool codes handed out
	}
	cases := []struct {
		name string
		// change reads, calls pause, then writes back its change; n is 1
		// for the first instance and 2 for the second.
		change func(t *testing.T, tx sparekey.Tx, fx fixtureDB, n int, pause func()) error
		// check looks at the result of both changes.
		check func(t *testing.T, tx sparekey.Tx, fx fixtureDB)
	}{{
		name: "pool code issued once",
		change: func(t *testing.T, tx sparekey.Tx, fx fixtureDB, n int, pause func()) error {
			slots, err := tx.SlotsByLock(t.Context(), fx.f.lock.ID)
			if err != nil {
				return err
			}
			pause()
			for _, s := range slots {
				if s.Backup == sparekey.BackupAvailable {
					s.Backup, s.IssuedTo, s.IssuedAt = sparekey.BackupIssued, fx.f.resident.ID, ptr(testkit.T0.Add(time.Duration(n)*time.Second))
					fx.issued.Add(1)
					return tx.UpdateSlot(t.Context(), s)
				}
			}
			return nil // nothing left to issue
		},
		check: func(t *testing.T, tx sparekey.Tx, fx fixtureDB) {
			slots, err := tx.SlotsByLock(t.Context(), fx.f.lock.ID)
			must(t, err)
			if n := fx.issued.Load(); n != 1 {
				t.Errorf("the one pool code was issued %d times", n)
			}
			if got := slots[0].IssuedAt; got == nil || !got.Equal(testkit.T0.Add(time.Second)) {
				t.Errorf("the code was issued at %v, want by the first instance", got)
			}
		},
	}, {
		name: "lock state and battery both kept",
		change: func(t *testing.T, tx sparekey.Tx, fx fixtureDB, n int, pause func()) error {
			l, err := tx.LockByDevice(t.Context(), fx.f.lock.Device)
			if err != nil {
				return err
			}
			pause()
			if n == 1 {
				l.State = sparekey.LockStateJammed
			} else {
				l.Battery = 42
			}
			return tx.UpdateLock(t.Context(), l)
		},
		check: func(t *testing.T, tx sparekey.Tx, fx fixtureDB) {
			l, err := tx.Lock(t.Context(), fx.f.lock.ID)
			must(t, err)
			if l.State != sparekey.LockStateJammed || l.Battery != 42 {
				t.Errorf("lock state %s, battery %d; want jammed and 42", l.State, l.Battery)
			}
		},
	}, {
		name: "every reveal counted",
		change: func(t *testing.T, tx sparekey.Tx, fx fixtureDB, n int, pause func()) error {
			l, err := tx.BackupLinkByTokenHash(t.Context(), fx.link.TokenHash)
			if err != nil {
				return err
			}
			pause()
			l.Reveals++
			return tx.UpdateBackupLink(t.Context(), l)
		},
		check: func(t *testing.T, tx sparekey.Tx, fx fixtureDB) {
			l, err := tx.BackupLinkByTokenHash(t.Context(), fx.link.TokenHash)
			must(t, err)
			if l.Reveals != 2 {
				t.Errorf("reveals = %d, want 2", l.Reveals)
			}
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			forEachDSN(t, func(t *testing.T, dsn string) {
				a, b := openDB(t, dsn), openDB(t, dsn)
				fx := fixtureDB{f: seed(t, a), issued: new(atomic.Int32)}
				inTx(t, a, func(tx sparekey.Tx) {
					s := newSlot(fx.f.lock.ID, 0, "48151623")
					s.Purpose, s.Backup, s.Sync = sparekey.SlotBackup, sparekey.BackupAvailable, sparekey.SyncSynced
					must(t, tx.CreateSlot(t.Context(), s))
					fx.link = newLink(fx.f.resident.ID, "h", testkit.T0)
					must(t, tx.CreateBackupLink(t.Context(), fx.link))
				})

				read := make(chan struct{})
				first := make(chan error, 1)
				go func() {
					first <- a.Tx(t.Context(), func(tx sparekey.Tx) error {
						return c.change(t, tx, fx, 1, func() {
							close(read)
							time.Sleep(200 * time.Millisecond) // the second instance reads now
						})
					})
				}()
				select {
				case <-read:
				case err := <-first:
					t.Fatalf("first instance: %v", err)
				}
				must(t, b.Tx(t.Context(), func(tx sparekey.Tx) error {
					return c.change(t, tx, fx, 2, func() {})
				}))
				must(t, <-first)
				must(t, a.Read(t.Context(), func(tx sparekey.Tx) error {
					c.check(t, tx, fx)
					return nil
				}))
			})
		})
	}
}

// Instances that start at once on a new database all migrate it and agree
// on its key.
func TestConcurrentOpen(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		if !strings.HasPrefix(dsn, "postgres") {
			// Goose has no locker for SQLite: two processes migrating one
			// file at the same moment can both start the same migration.
			t.Skip("SQLite: concurrent migrations of one file are not supported")
		}
		var wg sync.WaitGroup
		dbs, errs := make([]*store.DB, 4), make([]error, 4)
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = store.Open(t.Context(), dsn, secret.ForTest()) })
		}
		wg.Wait()
		for _, db := range dbs {
			if db != nil {
				t.Cleanup(func() { must(t, db.Close()) })
			}
		}
		for _, err := range errs {
			must(t, err)
		}
		inTx(t, dbs[0], func(tx sparekey.Tx) {
			must(t, tx.CreateProperty(t.Context(), &sparekey.Property{Name: "Elm", Timezone: "UTC", CreatedAt: testkit.T0}))
		})
		for _, db := range dbs {
			must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
				_, err := tx.PropertyByName(t.Context(), "Elm")
				return err
			}))
		}
	})
}
