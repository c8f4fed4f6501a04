package store_test

import (
	"slices"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func TestStaff(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		other := &sparekey.Property{Name: "Birch", Timezone: "UTC", CreatedAt: testkit.T0}
		third := &sparekey.Property{Name: "Cedar", Timezone: "UTC", CreatedAt: testkit.T0}
		manager := &sparekey.Staff{Email: "Mia@Example.com", Name: "Mia", Role: sparekey.RoleManager,
			PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: testkit.T0}
		fixer := &sparekey.Staff{Email: "fix@example.com", Name: "Fixer", Role: sparekey.RoleMaintenance, CreatedAt: testkit.T0}
		admin := &sparekey.Staff{Email: "admin@example.com", Name: "Admin", Role: sparekey.RoleManager, CreatedAt: testkit.T0}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateProperty(t.Context(), other))
			must(t, tx.CreateProperty(t.Context(), third))
			manager.Properties = []int64{other.ID, f.property.ID, other.ID} // unsorted, repeated
			fixer.Properties = []int64{f.property.ID}
			for _, s := range []*sparekey.Staff{manager, fixer, admin} {
				must(t, tx.CreateStaff(t.Context(), s))
			}
			if manager.ID == 0 {
				t.Fatal("CreateStaff did not set the ID")
			}
			if manager.Email != "mia@example.com" {
				t.Errorf("CreateStaff left the email %q", manager.Email)
			}
			manager.Properties = []int64{f.property.ID, other.ID}

			got, err := tx.Staff(t.Context(), manager.ID)
			must(t, err)
			same(t, "Staff", got, manager)
			got, err = tx.StaffByEmail(t.Context(), "MIA@example.COM")
			must(t, err)
			same(t, "StaffByEmail", got, manager)
			got, err = tx.Staff(t.Context(), admin.ID)
			must(t, err)
			same(t, "Staff without properties", got, admin)

			_, err = tx.Staff(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			if msg := sparekey.ErrorMessage(err); msg != "staff 999 not found" {
				t.Errorf("message = %q", msg)
			}
			_, err = tx.StaffByEmail(t.Context(), "nobody@example.com")
			wantCode(t, err, sparekey.ENOTFOUND)
			_, err = tx.StaffByEmail(t.Context(), "")
			wantCode(t, err, sparekey.ENOTFOUND)
			wantCode(t, tx.UpdateStaff(t.Context(), &sparekey.Staff{ID: 999, Email: "x@example.com"}), sparekey.ENOTFOUND)

			// Taken emails are a conflict, whatever their case, and the
			// transaction goes on.
			err = tx.CreateStaff(t.Context(), &sparekey.Staff{Email: "FIX@example.com", Name: "Twin",
				Role: sparekey.RoleMaintenance, CreatedAt: testkit.T0, Properties: []int64{other.ID}})
			wantCode(t, err, sparekey.ECONFLICT)
			fixer.Email = "mia@example.com"
			wantCode(t, tx.UpdateStaff(t.Context(), fixer), sparekey.ECONFLICT)
			fixer.Email = "fix@example.com"

			// UpdateStaff replaces the set of properties.
			fixer.Properties = []int64{third.ID, other.ID}
			fixer.FailedLogins, fixer.LockedUntil = 3, ptr(testkit.T0.Add(15*time.Minute))
			must(t, tx.UpdateStaff(t.Context(), fixer))
			fixer.Properties = []int64{other.ID, third.ID}
			got, err = tx.Staff(t.Context(), fixer.ID)
			must(t, err)
			same(t, "updated staff", got, fixer)

			manager.Properties = nil
			must(t, tx.UpdateStaff(t.Context(), manager))
			got, err = tx.Staff(t.Context(), manager.ID)
			must(t, err)
			same(t, "staff whose properties were all removed", got, manager)
			manager.Properties = []int64{f.property.ID, other.ID}
			must(t, tx.UpdateStaff(t.Context(), manager))
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for _, c := range []struct {
				name     string
				property int64
				want     []*sparekey.Staff
			}{
				{"all, by email", 0, []*sparekey.Staff{admin, fixer, manager}},
				{"first property", f.property.ID, []*sparekey.Staff{manager}},
				{"second property", other.ID, []*sparekey.Staff{fixer, manager}},
				{"third property", third.ID, []*sparekey.Staff{fixer}},
				{"no such property", 999, []*sparekey.Staff{}},
			} {
				got, err := tx.StaffList(t.Context(), c.property)
				must(t, err)
				same(t, "StaffList "+c.name, got, c.want)
			}
			return nil
		}))
	})
}

func TestStaffSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		mia := &sparekey.Staff{Email: "mia@example.com", Name: "Mia", Role: sparekey.RoleManager, CreatedAt: testkit.T0}
		bo := &sparekey.Staff{Email: "bo@example.com", Name: "Bo", Role: sparekey.RoleMaintenance, CreatedAt: testkit.T0}
		var live, expired, boSession *sparekey.StaffSession
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateStaff(t.Context(), mia))
			must(t, tx.CreateStaff(t.Context(), bo))
			live = &sparekey.StaffSession{TokenHash: "hash-live", StaffID: mia.ID, CreatedAt: testkit.T0,
				ExpiresAt: testkit.T0.Add(12 * time.Hour), IP: "10.0.0.1", UserAgent: "Firefox"}
			expired = &sparekey.StaffSession{TokenHash: "hash-expired", StaffID: mia.ID, CreatedAt: testkit.T0.Add(-13 * time.Hour),
				ExpiresAt: testkit.T0.Add(-time.Hour)}
			boSession = &sparekey.StaffSession{TokenHash: "hash-bo", StaffID: bo.ID, CreatedAt: testkit.T0.Add(-12 * time.Hour),
				ExpiresAt: testkit.T0} // expires exactly now
			for _, s := range []*sparekey.StaffSession{live, expired, boSession} {
				must(t, tx.CreateStaffSession(t.Context(), s))
			}
			if live.ID == 0 {
				t.Fatal("CreateStaffSession did not set the ID")
			}
			got, err := tx.StaffSessionByTokenHash(t.Context(), "hash-live")
			must(t, err)
			same(t, "StaffSessionByTokenHash", got, live)
			got, err = tx.StaffSessionByTokenHash(t.Context(), "hash-expired")
			must(t, err)
			same(t, "expired session", got, expired)
			_, err = tx.StaffSessionByTokenHash(t.Context(), "hash-nope")
			wantCode(t, err, sparekey.ENOTFOUND)
			_, err = tx.StaffSessionByTokenHash(t.Context(), "")
			wantCode(t, err, sparekey.ENOTFOUND)
		})

		hashes := func(tx sparekey.Tx, want ...string) {
			t.Helper()
			for _, h := range []string{"hash-live", "hash-expired", "hash-bo", "hash-second"} {
				_, err := tx.StaffSessionByTokenHash(t.Context(), h)
				if found, wanted := err == nil, slices.Contains(want, h); found != wanted {
					t.Errorf("session %s found %t, want %t (err: %v)", h, found, wanted, err)
				}
			}
		}
		inTx(t, db, func(tx sparekey.Tx) {
			// The sweep takes sessions that expired at or before now.
			must(t, tx.DeleteStaffSessions(t.Context(), 0, testkit.T0))
			hashes(tx, "hash-live")

			must(t, tx.CreateStaffSession(t.Context(), &sparekey.StaffSession{TokenHash: "hash-second", StaffID: mia.ID,
				CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(time.Hour)}))
			must(t, tx.DeleteStaffSession(t.Context(), live.ID))
			must(t, tx.DeleteStaffSession(t.Context(), live.ID)) // already gone: no error
			hashes(tx, "hash-second")

			must(t, tx.CreateStaffSession(t.Context(), &sparekey.StaffSession{TokenHash: "hash-bo", StaffID: bo.ID,
				CreatedAt: testkit.T0, ExpiresAt: testkit.T0.Add(time.Hour)}))
			must(t, tx.DeleteStaffSessions(t.Context(), mia.ID, testkit.T0))
			hashes(tx, "hash-bo")
		})
	})
}
