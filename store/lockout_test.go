package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func newRequest(ip string, created time.Time) *sparekey.BackupRequest {
	return &sparekey.BackupRequest{ContactHash: "hash-" + ip, ContactKind: sparekey.ContactEmail, IP: ip,
		UserAgent: "test", Outcome: sparekey.OutcomePending, CreatedAt: created}
}

func TestClaimBackupRequests(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		r1 := newRequest("10.0.0.1", testkit.T0.Add(-3*time.Minute))
		r2 := newRequest("10.0.0.2", testkit.T0.Add(-2*time.Minute))
		done := newRequest("10.0.0.3", testkit.T0.Add(-4*time.Minute))
		done.Outcome, done.ProcessedAt, done.ResidentID = sparekey.OutcomeSent, ptr(testkit.T0), f.resident.ID
		r4 := newRequest("10.0.0.4", testkit.T0.Add(-time.Minute))
		inTx(t, db, func(tx sparekey.Tx) {
			for _, r := range []*sparekey.BackupRequest{r1, r2, done, r4} {
				must(t, tx.CreateBackupRequest(t.Context(), r))
			}
		})
		claim := func(now time.Time, limit int) []*sparekey.BackupRequest {
			t.Helper()
			var got []*sparekey.BackupRequest
			inTx(t, db, func(tx sparekey.Tx) {
				var err error
				got, err = tx.ClaimBackupRequests(t.Context(), now, time.Minute, limit)
				must(t, err)
			})
			return got
		}

		got := claim(testkit.T0, 2)
		r1.Attempts, r2.Attempts = 1, 1
		r1.ClaimedUntil, r2.ClaimedUntil = ptr(testkit.T0.Add(time.Minute)), ptr(testkit.T0.Add(time.Minute))
		same(t, "first claim, oldest first", got, []*sparekey.BackupRequest{r1, r2})
		stale := *got[0] // the first worker's copy, under its first lease
		same(t, "during the lease", ids(claim(testkit.T0.Add(30*time.Second), 10)), ids([]*sparekey.BackupRequest{r4}))
		got = claim(testkit.T0.Add(time.Minute), 10) // r1 and r2's lease ended; r4's runs on
		r1.Attempts, r2.Attempts = 2, 2
		r1.ClaimedUntil, r2.ClaimedUntil = ptr(testkit.T0.Add(2*time.Minute)), ptr(testkit.T0.Add(2*time.Minute))
		same(t, "after the lease", got, []*sparekey.BackupRequest{r1, r2})

		// The first worker lost r1 to the second: its answer is refused.
		stale.Outcome, stale.ProcessedAt = sparekey.OutcomeSent, ptr(testkit.T0.Add(time.Minute))
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error { return tx.UpdateBackupRequest(t.Context(), &stale) })
		wantCode(t, err, sparekey.ECONFLICT)

		// Processing ends a request for good; a still-pending one keeps its lease.
		inTx(t, db, func(tx sparekey.Tx) {
			r1.Outcome, r1.ResidentID, r1.ProcessedAt = sparekey.OutcomeSent, f.resident.ID, ptr(testkit.T0.Add(time.Minute))
			must(t, tx.UpdateBackupRequest(t.Context(), r1))
			r2.Attempts = 7
			must(t, tx.UpdateBackupRequest(t.Context(), r2))
			wantCode(t, tx.UpdateBackupRequest(t.Context(), &sparekey.BackupRequest{ID: 999, Outcome: "sent"}), sparekey.ENOTFOUND)
		})
		same(t, "r2 still leased", ids(claim(testkit.T0.Add(90*time.Second), 10)), ids([]*sparekey.BackupRequest{r4}))
		got = claim(testkit.T0.Add(time.Hour), 10)
		r2.Attempts, r4.Attempts = 8, 3
		r2.ClaimedUntil, r4.ClaimedUntil = ptr(testkit.T0.Add(time.Hour+time.Minute)), ptr(testkit.T0.Add(time.Hour+time.Minute))
		same(t, "never the processed ones", got, []*sparekey.BackupRequest{r2, r4})
	})
}

func TestCountBackupRequestsByIP(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		inTx(t, db, func(tx sparekey.Tx) {
			for _, r := range []*sparekey.BackupRequest{
				newRequest("10.0.0.1", testkit.T0.Add(-2*time.Hour)),
				newRequest("10.0.0.1", testkit.T0.Add(-30*time.Minute)),
				newRequest("10.0.0.1", testkit.T0.Add(-time.Minute)),
				newRequest("10.0.0.2", testkit.T0.Add(-time.Minute)),
			} {
				must(t, tx.CreateBackupRequest(t.Context(), r))
			}
			for _, c := range []struct {
				ip    string
				since time.Duration
				want  int
			}{
				{"10.0.0.1", -time.Hour, 2},
				{"10.0.0.1", -30 * time.Minute, 1}, // since is exclusive
				{"10.0.0.1", -31 * time.Minute, 2},
				{"10.0.0.1", -29 * time.Minute, 1},
				{"10.0.0.1", -3 * time.Hour, 3},
				{"10.0.0.2", -time.Hour, 1},
				{"10.0.0.9", -time.Hour, 0},
			} {
				n, err := tx.CountBackupRequestsByIP(t.Context(), c.ip, testkit.T0.Add(c.since))
				must(t, err)
				if n != c.want {
					t.Errorf("CountBackupRequestsByIP(%s, now%v) = %d, want %d", c.ip, c.since, n, c.want)
				}
			}
		})
	})
}

// Answered requests older than the cutoff are deleted, a batch at a time;
// pending ones and younger ones stay, and so does the link of a deleted one.
func TestDeleteBackupRequestsBefore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		answered := func(ip string, at time.Time, outcome string) *sparekey.BackupRequest {
			r := newRequest(ip, at)
			r.Outcome, r.ProcessedAt = outcome, ptr(at.Add(time.Second))
			return r
		}
		kept := map[*sparekey.BackupRequest]bool{
			answered("10.0.0.1", testkit.T0.Add(-time.Microsecond), sparekey.OutcomeSent): false,
			answered("10.0.0.2", testkit.T0.Add(-time.Hour), sparekey.OutcomeNoMatch):     false,
			newRequest("10.0.0.3", testkit.T0.Add(-2*time.Hour)):                          true, // pending
			answered("10.0.0.4", testkit.T0, sparekey.OutcomeSent):                        true,
			answered("10.0.0.5", testkit.T0.Add(time.Hour), sparekey.OutcomeThrottled):    true,
		}
		link := newLink(f.resident.ID, "h-link", testkit.T0.Add(-time.Microsecond))
		inTx(t, db, func(tx sparekey.Tx) {
			for r := range kept {
				must(t, tx.CreateBackupRequest(t.Context(), r))
				if r.IP == "10.0.0.1" {
					link.RequestID = r.ID
				}
			}
			must(t, tx.CreateBackupLink(t.Context(), link))
		})
		for _, c := range []struct{ limit, want int }{{1, 1}, {0, 1}, {0, 0}} {
			inTx(t, db, func(tx sparekey.Tx) {
				n, err := tx.DeleteBackupRequestsBefore(t.Context(), testkit.T0, c.limit)
				must(t, err)
				if n != c.want {
					t.Errorf("DeleteBackupRequestsBefore(t0, %d) = %d, want %d", c.limit, n, c.want)
				}
			})
		}
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for r, want := range kept {
				n, err := tx.CountBackupRequestsByIP(t.Context(), r.IP, testkit.T0.Add(-time.Hour*48))
				must(t, err)
				if (n == 1) != want {
					t.Errorf("request from %s (%s, created %v): %d left, want kept %v", r.IP, r.Outcome, r.CreatedAt, n, want)
				}
			}
			got, err := tx.BackupLinkByTokenHash(t.Context(), "h-link")
			must(t, err)
			if got.RequestID != 0 || got.ResidentID != f.resident.ID {
				t.Errorf("link of a deleted request: request %d, resident %d; want no request, resident %d",
					got.RequestID, got.ResidentID, f.resident.ID)
			}
			return nil
		}))
	})
}

func newLink(residentID int64, token string, created time.Time) *sparekey.BackupLink {
	return &sparekey.BackupLink{TokenHash: token, ResidentID: residentID, CreatedAt: created,
		ExpiresAt: created.Add(sparekey.BackupLinkTTL)}
}

func TestBackupLinks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		other := &sparekey.Resident{UnitID: f.unit.ID, Name: "Bob", Email: "bob@example.com", CreatedAt: testkit.T0}
		req := newRequest("10.0.0.1", testkit.T0.Add(-6*time.Minute))
		expired := newLink(f.resident.ID, "h-expired", testkit.T0.Add(-40*time.Minute))
		live := newLink(f.resident.ID, "h-live", testkit.T0.Add(-5*time.Minute))
		revoked := newLink(f.resident.ID, "h-revoked", testkit.T0.Add(-8*time.Minute))
		revoked.RevokedAt = ptr(testkit.T0.Add(-6 * time.Minute))
		othersLive := newLink(0, "h-other", testkit.T0.Add(-time.Minute))
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateResident(t.Context(), other))
			must(t, tx.CreateBackupRequest(t.Context(), req))
			live.RequestID, othersLive.ResidentID = req.ID, other.ID
			for _, l := range []*sparekey.BackupLink{expired, live, revoked, othersLive} {
				must(t, tx.CreateBackupLink(t.Context(), l))
			}
			got, err := tx.BackupLinkByTokenHash(t.Context(), "h-live")
			must(t, err)
			same(t, "BackupLinkByTokenHash", got, live)
			_, err = tx.BackupLinkByTokenHash(t.Context(), "h-nope")
			wantCode(t, err, sparekey.ENOTFOUND)

			live.RevealedAt, live.Reveals = ptr(testkit.T0.Add(-time.Minute)), 2
			must(t, tx.UpdateBackupLink(t.Context(), live))
			got, err = tx.BackupLinkByTokenHash(t.Context(), "h-live")
			must(t, err)
			same(t, "updated link", got, live)
			wantCode(t, tx.UpdateBackupLink(t.Context(), &sparekey.BackupLink{ID: 999}), sparekey.ENOTFOUND)

			for since, want := range map[time.Duration]int{-10 * time.Minute: 2, -8 * time.Minute: 1, -time.Hour: 3, -time.Minute: 0} {
				n, err := tx.CountBackupLinksSince(t.Context(), f.resident.ID, testkit.T0.Add(since))
				must(t, err)
				if n != want {
					t.Errorf("CountBackupLinksSince(now%v) = %d, want %d", since, n, want)
				}
			}

			must(t, tx.RevokeBackupLinks(t.Context(), f.resident.ID, testkit.T0))
			live.RevokedAt = ptr(testkit.T0)
			for _, want := range []*sparekey.BackupLink{expired, live, revoked, othersLive} {
				got, err := tx.BackupLinkByTokenHash(t.Context(), want.TokenHash)
				must(t, err)
				same(t, "after RevokeBackupLinks: "+want.TokenHash, got, want)
			}
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateBackupLink(t.Context(), newLink(f.resident.ID, "h-live", testkit.T0))
		})
		wantCode(t, err, sparekey.ECONFLICT)
	})
}

func TestBackupLinkSlots(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db) // f.lock is created before back, so it sorts first
		back := newLock(f.unit.ID, "unit-101-back")
		link := newLink(f.resident.ID, "h", testkit.T0)
		var slots []*sparekey.Slot
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateLock(t.Context(), back))
			must(t, tx.CreateBackupLink(t.Context(), link))
			slots = []*sparekey.Slot{newSlot(back.ID, 1, "11112222"), newSlot(f.lock.ID, 3, "33334444"),
				newSlot(f.lock.ID, 0, "55556666"), newSlot(f.lock.ID, 5, "77778888")}
			for _, s := range slots {
				must(t, tx.CreateSlot(t.Context(), s))
			}
			for _, s := range slots[:3] {
				must(t, tx.AddBackupLinkSlot(t.Context(), link.ID, s.ID))
			}
			got, err := tx.BackupLinkSlots(t.Context(), link.ID)
			must(t, err)
			same(t, "BackupLinkSlots, by lock then number", got, []*sparekey.Slot{slots[2], slots[1], slots[0]})
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.AddBackupLinkSlot(t.Context(), link.ID, slots[0].ID)
		})
		wantCode(t, err, sparekey.ECONFLICT)
	})
}
