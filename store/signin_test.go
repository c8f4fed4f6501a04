package store_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func TestSignIns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		in := &sparekey.SignIn{ResidentID: f.resident.ID, HandleHash: "handle-1", TokenHash: "token-1", CodeHash: "code-1",
			IP: "203.0.113.7", CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(sparekey.SignInTTL)}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateSignIn(t.Context(), in))
			if in.ID == 0 {
				t.Fatal("CreateSignIn did not set the ID")
			}
			got, err := tx.SignInByHandleHash(t.Context(), "handle-1")
			must(t, err)
			same(t, "SignInByHandleHash", got, in)
			got, err = tx.SignInByTokenHash(t.Context(), "token-1")
			must(t, err)
			same(t, "SignInByTokenHash", got, in)

			// A hash of one kind finds nothing as the other.
			for _, h := range []string{"", "handle-nope", "token-1"} {
				_, err := tx.SignInByHandleHash(t.Context(), h)
				wantCode(t, err, sparekey.ENOTFOUND)
			}
			for _, h := range []string{"", "token-nope", "handle-1"} {
				_, err := tx.SignInByTokenHash(t.Context(), h)
				wantCode(t, err, sparekey.ENOTFOUND)
			}
			// The message may reach an anonymous visitor: it names no hash.
			_, err = tx.SignInByTokenHash(t.Context(), "token-nope")
			if msg := sparekey.ErrorMessage(err); strings.Contains(msg, "token-nope") {
				t.Errorf("message %q names the hash", msg)
			}
			wantCode(t, tx.UpdateSignIn(t.Context(), &sparekey.SignIn{ID: 999, ExpiresAt: testkit.T0}), sparekey.ENOTFOUND)
		})

		// UpdateSignIn writes the answer (resident, code hash, secret,
		// outcome) and the use (attempts, use, expiry), and nothing else.
		inTx(t, db, func(tx sparekey.Tx) {
			in.Attempts, in.UsedAt, in.ExpiresAt = 3, ptr(testkit.T0.Add(time.Minute)), testkit.T0.Add(time.Minute)
			in.CodeHash, in.Secret, in.Outcome = "code-2", "token 123456", sparekey.OutcomeSent
			changed := *in
			changed.HandleHash, changed.TokenHash, changed.IP, changed.ContactHash, changed.Language = "x", "y", "10.0.0.1", "h", "es"
			changed.CreatedAt = testkit.T0.Add(time.Hour)
			must(t, tx.UpdateSignIn(t.Context(), &changed))
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			got, err := tx.SignInByHandleHash(t.Context(), "handle-1")
			must(t, err)
			same(t, "updated sign-in", got, in)
			return nil
		}))
		inTx(t, db, func(tx sparekey.Tx) {
			in.UsedAt = nil
			must(t, tx.UpdateSignIn(t.Context(), in))
			got, err := tx.SignInByTokenHash(t.Context(), "token-1")
			must(t, err)
			same(t, "sign-in with its use cleared", got, in)
		})
	})
}

// A sign-in for a contact that matched nobody has no resident: NULL in the
// database (the foreign key holds), 0 when read back.
func TestSignInWithoutResident(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		nobody := &sparekey.SignIn{HandleHash: "handle-nobody", TokenHash: "token-nobody", IP: "203.0.113.7",
			CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(sparekey.SignInTTL)}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateSignIn(t.Context(), nobody))
		})
		dump, err := store.DumpTable(t.Context(), db, "sign_ins")
		must(t, err)
		if !strings.Contains(dump, "resident_id=<nil> ") {
			t.Errorf("resident_id is not NULL:\n%s", dump)
		}
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			got, err := tx.SignInByHandleHash(t.Context(), "handle-nobody")
			must(t, err)
			same(t, "sign-in without resident", got, nobody)
			n, err := tx.CountSignInsSince(t.Context(), 0, testkit.T0.Add(-time.Hour))
			must(t, err)
			if n != 0 {
				t.Errorf("CountSignInsSince(0) = %d, want 0: nobody's attempts count for no one", n)
			}
			return nil
		}))
	})
}

func TestCountSignInsSince(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		other := &sparekey.Resident{UnitID: f.unit.ID, Name: "Bo", Email: "bo@example.com", Phone: "+15555550102", CreatedAt: testkit.T0}
		n := 0
		add := func(tx sparekey.Tx, residentID int64, at time.Time) {
			t.Helper()
			n++
			h := strings.Repeat("h", n)
			must(t, tx.CreateSignIn(t.Context(), &sparekey.SignIn{ResidentID: residentID, HandleHash: "handle-" + h,
				TokenHash: "token-" + h, CodeHash: "code", CreatedAt: at, ExpiresAt: at.Add(sparekey.SignInTTL)}))
		}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateResident(t.Context(), other))
			add(tx, f.resident.ID, testkit.T0.Add(-2*time.Hour))
			add(tx, f.resident.ID, testkit.T0.Add(-time.Hour)) // exactly on the bound
			add(tx, f.resident.ID, testkit.T0.Add(-time.Hour+time.Microsecond))
			add(tx, f.resident.ID, testkit.T0)
			add(tx, other.ID, testkit.T0)
			add(tx, 0, testkit.T0)
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for _, c := range []struct {
				name     string
				resident int64
				since    time.Time
				want     int
			}{
				{"the last hour excludes its bound", f.resident.ID, testkit.T0.Add(-time.Hour), 2},
				{"a microsecond earlier includes it", f.resident.ID, testkit.T0.Add(-time.Hour - time.Microsecond), 3},
				{"all", f.resident.ID, testkit.T0.Add(-3 * time.Hour), 4},
				{"none after now", f.resident.ID, testkit.T0, 0},
				{"another resident", other.ID, testkit.T0.Add(-time.Hour), 1},
				{"no such resident", 999, testkit.T0.Add(-time.Hour), 0},
			} {
				got, err := tx.CountSignInsSince(t.Context(), c.resident, c.since)
				must(t, err)
				if got != c.want {
					t.Errorf("%s: CountSignInsSince = %d, want %d", c.name, got, c.want)
				}
			}
			return nil
		}))
	})
}

func TestResidentSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		bo := &sparekey.Resident{UnitID: f.unit.ID, Name: "Bo", Email: "bo@example.com", Phone: "+15555550102", CreatedAt: testkit.T0}
		var live, expired, boSession *sparekey.ResidentSession
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateResident(t.Context(), bo))
			live = &sparekey.ResidentSession{TokenHash: "hash-live", ResidentID: f.resident.ID, CreatedAt: testkit.T0,
				ExpiresAt: testkit.T0.Add(30 * 24 * time.Hour), IP: "10.0.0.1", UserAgent: "Firefox"}
			expired = &sparekey.ResidentSession{TokenHash: "hash-expired", ResidentID: f.resident.ID,
				CreatedAt: testkit.T0.Add(-31 * 24 * time.Hour), ExpiresAt: testkit.T0.Add(-time.Hour)}
			boSession = &sparekey.ResidentSession{TokenHash: "hash-bo", ResidentID: bo.ID, CreatedAt: testkit.T0.Add(-time.Hour),
				ExpiresAt: testkit.T0} // expires exactly now
			for _, s := range []*sparekey.ResidentSession{live, expired, boSession} {
				must(t, tx.CreateResidentSession(t.Context(), s))
			}
			if live.ID == 0 {
				t.Fatal("CreateResidentSession did not set the ID")
			}
			got, err := tx.ResidentSessionByTokenHash(t.Context(), "hash-live")
			must(t, err)
			same(t, "ResidentSessionByTokenHash", got, live)
			got, err = tx.ResidentSessionByTokenHash(t.Context(), "hash-expired")
			must(t, err)
			same(t, "expired session (the caller checks expiry)", got, expired)
			_, err = tx.ResidentSessionByTokenHash(t.Context(), "hash-nope")
			wantCode(t, err, sparekey.ENOTFOUND)
			_, err = tx.ResidentSessionByTokenHash(t.Context(), "")
			wantCode(t, err, sparekey.ENOTFOUND)
		})

		hashes := func(tx sparekey.Tx, want ...string) {
			t.Helper()
			for _, h := range []string{"hash-live", "hash-expired", "hash-bo", "hash-second", "hash-bo-2"} {
				_, err := tx.ResidentSessionByTokenHash(t.Context(), h)
				if found, wanted := err == nil, slices.Contains(want, h); found != wanted {
					t.Errorf("session %s found %t, want %t (err: %v)", h, found, wanted, err)
				}
			}
		}
		inTx(t, db, func(tx sparekey.Tx) {
			// The sweep takes sessions that expired at or before now.
			must(t, tx.DeleteResidentSessions(t.Context(), 0, 0, testkit.T0))
			hashes(tx, "hash-live")

			// By id: that session only; gone already is no error.
			must(t, tx.CreateResidentSession(t.Context(), &sparekey.ResidentSession{TokenHash: "hash-second",
				ResidentID: f.resident.ID, CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(time.Hour)}))
			must(t, tx.DeleteResidentSessions(t.Context(), live.ID, 0, testkit.T0))
			must(t, tx.DeleteResidentSessions(t.Context(), live.ID, 0, testkit.T0))
			hashes(tx, "hash-second")

			// By resident: every session of theirs, live or not, and no other.
			must(t, tx.CreateResidentSession(t.Context(), &sparekey.ResidentSession{TokenHash: "hash-bo-2",
				ResidentID: bo.ID, CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(time.Hour)}))
			must(t, tx.DeleteResidentSessions(t.Context(), 0, f.resident.ID, testkit.T0))
			hashes(tx, "hash-bo-2")
		})
		// A token hash is unique.
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateResidentSession(t.Context(), &sparekey.ResidentSession{TokenHash: "hash-bo-2",
				ResidentID: f.resident.ID, CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(time.Hour)})
		})
		if err == nil {
			t.Error("a second session with the same token hash was created")
		}
	})
}

func TestDeleteSignInsBefore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		for i, at := range []time.Time{testkit.T0.Add(-time.Microsecond), testkit.T0, testkit.T0.Add(time.Hour)} {
			h := strconv.Itoa(i)
			inTx(t, db, func(tx sparekey.Tx) {
				must(t, tx.CreateSignIn(t.Context(), &sparekey.SignIn{ResidentID: f.resident.ID, HandleHash: "handle-" + h,
					TokenHash: "token-" + h, CodeHash: "code", CreatedAt: at, ExpiresAt: at.Add(sparekey.SignInTTL)}))
			})
		}
		inTx(t, db, func(tx sparekey.Tx) { must(t, tx.DeleteSignInsBefore(t.Context(), testkit.T0)) })
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for h, kept := range map[string]bool{"0": false, "1": true, "2": true} {
				_, err := tx.SignInByHandleHash(t.Context(), "handle-"+h)
				if (err == nil) != kept {
					t.Errorf("sign-in %s: lookup after DeleteSignInsBefore(t0) = %v, want kept %v", h, err, kept)
				}
			}
			return nil
		}))
	})
}

// Pending sign-in requests are claimed oldest first under a lease, once;
// an answer under a lease that has passed to another worker is refused;
// the code and token wait sealed, never in plain text.
func TestClaimSignIns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		for i, at := range []time.Time{testkit.T0.Add(time.Second), testkit.T0} {
			h := strconv.Itoa(i)
			inTx(t, db, func(tx sparekey.Tx) {
				must(t, tx.CreateSignIn(t.Context(), &sparekey.SignIn{HandleHash: "handle-" + h, TokenHash: "token-" + h,
					CreatedAt: at, ExpiresAt: at.Add(sparekey.SignInTTL), Secret: "secret-token 12345" + h,
					Outcome: sparekey.OutcomePending, ContactKind: sparekey.ContactEmail, ContactHash: "c"}))
			})
		}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateSignIn(t.Context(), &sparekey.SignIn{HandleHash: "handle-done", TokenHash: "token-done",
				CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(sparekey.SignInTTL), Outcome: sparekey.OutcomeSent}))
		})
		dump, err := store.DumpTable(t.Context(), db, "sign_ins")
		must(t, err)
		if strings.Contains(dump, "secret-token") {
			t.Errorf("a sign-in's code and token are stored in plain text:\n%s", dump)
		}
		claim := func(now time.Time) (got []*sparekey.SignIn) {
			t.Helper()
			inTx(t, db, func(tx sparekey.Tx) {
				var err error
				got, err = tx.ClaimSignIns(t.Context(), now, time.Minute, 10)
				must(t, err)
			})
			return got
		}
		first := claim(testkit.T0)
		if len(first) != 2 || first[0].HandleHash != "handle-1" || first[1].HandleHash != "handle-0" ||
			first[0].Secret != "secret-token 123451" || !first[0].ClaimedUntil.Equal(testkit.T0.Add(time.Minute)) {
			t.Fatalf("first claim = %+v, want the two pending, oldest first, with their secrets and lease", first)
		}
		if again := claim(testkit.T0.Add(30 * time.Second)); len(again) != 0 {
			t.Errorf("claimed again within the lease: %+v", again)
		}
		taken := claim(testkit.T0.Add(time.Minute))
		if len(taken) != 2 {
			t.Fatalf("after the lease: %+v, want both again", taken)
		}
		// The first worker's answer comes too late: refused.
		stale := first[0]
		stale.Outcome, stale.Secret = sparekey.OutcomeSent, ""
		inTx(t, db, func(tx sparekey.Tx) {
			wantCode(t, tx.UpdateSignIn(t.Context(), stale), sparekey.ECONFLICT)
		})
		// The second worker's is written, and ends the lease.
		fresh := taken[0]
		fresh.Outcome, fresh.Secret = sparekey.OutcomeNoMatch, ""
		inTx(t, db, func(tx sparekey.Tx) { must(t, tx.UpdateSignIn(t.Context(), fresh)) })
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			got, err := tx.SignInByHandleHash(t.Context(), fresh.HandleHash)
			must(t, err)
			if got.Outcome != sparekey.OutcomeNoMatch || got.Secret != "" || got.ClaimedUntil != nil {
				t.Errorf("answered sign-in = %+v, want no_match, no secret, no lease", got)
			}
			return nil
		}))
	})
}
