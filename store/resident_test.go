package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/secret"
	"sparekey/store"
)

func TestResidents(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		gone := &sparekey.Resident{UnitID: f.unit.ID, Name: "Bob", Email: "bob@example.com", Phone: "+15555550102",
			CreatedAt: testkit.T0.Add(-time.Hour), MovedOutAt: ptr(testkit.T0)}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateResident(t.Context(), gone))
			got, err := tx.Resident(t.Context(), f.resident.ID)
			must(t, err)
			same(t, "Resident", got, f.resident)
			got, err = tx.Resident(t.Context(), gone.ID)
			must(t, err)
			same(t, "moved-out Resident", got, gone)
			all, err := tx.ResidentsByUnit(t.Context(), f.unit.ID)
			must(t, err)
			same(t, "ResidentsByUnit", all, []*sparekey.Resident{f.resident, gone})

			got, err = tx.ResidentByEmail(t.Context(), "bob@example.com")
			must(t, err)
			same(t, "ResidentByEmail finds a moved-out resident", got, gone)

			_, err = tx.Resident(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			_, err = tx.ResidentByEmail(t.Context(), "nobody@example.com")
			wantCode(t, err, sparekey.ENOTFOUND)
			wantCode(t, tx.UpdateResident(t.Context(), &sparekey.Resident{ID: 999, UnitID: f.unit.ID}), sparekey.ENOTFOUND)
		})
	})
}

func TestResidentByContactHash(t *testing.T) {
	keys := secret.ForTest()
	hash := func(contact string) string { return keys.Hash(sparekey.HashContact, contact) }
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db) // ada@example.com, +15555550101
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateResident(t.Context(), &sparekey.Resident{UnitID: f.unit.ID, Name: "Bob",
				Email: "bob@example.com", Phone: "+15555550102", CreatedAt: testkit.T0, MovedOutAt: ptr(testkit.T0)}))
			must(t, tx.CreateResident(t.Context(), &sparekey.Resident{UnitID: f.unit.ID, Name: "Cy",
				Email: "cy@example.com", CreatedAt: testkit.T0})) // no phone
		})
		find := func(kind sparekey.ContactKind, h string) (*sparekey.Resident, error) {
			var r *sparekey.Resident
			err := db.Read(t.Context(), func(tx sparekey.Tx) error {
				var err error
				r, err = tx.ResidentByContactHash(t.Context(), kind, h)
				return err
			})
			return r, err
		}

		r, err := find(sparekey.ContactEmail, hash("ada@example.com"))
		must(t, err)
		same(t, "by email hash", r, f.resident)
		r, err = find(sparekey.ContactPhone, hash("+15555550101"))
		must(t, err)
		same(t, "by phone hash", r, f.resident)

		for _, c := range []struct {
			name string
			kind sparekey.ContactKind
			hash string
		}{
			{"email hash as phone", sparekey.ContactPhone, hash("ada@example.com")},
			{"phone hash as email", sparekey.ContactEmail, hash("+15555550101")},
			{"moved out, email", sparekey.ContactEmail, hash("bob@example.com")},
			{"moved out, phone", sparekey.ContactPhone, hash("+15555550102")},
			{"unknown", sparekey.ContactEmail, hash("eve@example.com")},
			{"empty phone", sparekey.ContactPhone, hash("")},
			{"empty hash", sparekey.ContactPhone, ""},
		} {
			_, err := find(c.kind, c.hash)
			if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
				t.Errorf("%s: error %v, want not found", c.name, err)
			}
		}

		// Updates keep the hashes current; moving out hides the resident.
		inTx(t, db, func(tx sparekey.Tx) {
			f.resident.Email = "ada@new.example.com"
			must(t, tx.UpdateResident(t.Context(), f.resident))
		})
		_, err = find(sparekey.ContactEmail, hash("ada@example.com"))
		wantCode(t, err, sparekey.ENOTFOUND)
		r, err = find(sparekey.ContactEmail, hash("ada@new.example.com"))
		must(t, err)
		same(t, "after email change", r, f.resident)

		inTx(t, db, func(tx sparekey.Tx) {
			f.resident.MovedOutAt = ptr(testkit.T0.Add(time.Hour))
			must(t, tx.UpdateResident(t.Context(), f.resident))
			got, err := tx.Resident(t.Context(), f.resident.ID)
			must(t, err)
			same(t, "moved out", got, f.resident)
		})
		_, err = find(sparekey.ContactPhone, hash("+15555550101"))
		wantCode(t, err, sparekey.ENOTFOUND)
	})
}

func TestResidentByPhone(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			p := &sparekey.Property{Name: "Elm", Timezone: "UTC", CreatedAt: testkit.T0}
			must(t, tx.CreateProperty(t.Context(), p))
			u := &sparekey.Unit{PropertyID: p.ID, Name: "1"}
			must(t, tx.CreateUnit(t.Context(), u))
			gone := testkit.T0
			must(t, tx.CreateResident(t.Context(), &sparekey.Resident{UnitID: u.ID, Name: "Old", Email: "old@example.com", Phone: "+12015550111", CreatedAt: testkit.T0, MovedOutAt: &gone}))
			wantCode(t, func() error { _, err := tx.ResidentByPhone(t.Context(), "+12015550111"); return err }(), sparekey.ENOTFOUND)
			r := &sparekey.Resident{UnitID: u.ID, Name: "New", Email: "new@example.com", Phone: "+12015550111", CreatedAt: testkit.T0}
			must(t, tx.CreateResident(t.Context(), r))
			got, err := tx.ResidentByPhone(t.Context(), "+12015550111")
			if err != nil || got.ID != r.ID {
				t.Errorf("ResidentByPhone = %+v, %v; want the active resident", got, err)
			}
			wantCode(t, func() error { _, err := tx.ResidentByPhone(t.Context(), ""); return err }(), sparekey.ENOTFOUND)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
