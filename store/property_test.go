package store_test

import (
	"testing"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func TestProperties(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		p := &sparekey.Property{Name: "Maple Court", Timezone: "America/New_York",
			MaintenanceEmail: "fix@example.com", MaintenancePhone: "+15555550100", CreatedAt: testkit.T0}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateProperty(t.Context(), p))
		})
		if p.ID == 0 {
			t.Fatal("CreateProperty did not set the ID")
		}
		inTx(t, db, func(tx sparekey.Tx) {
			got, err := tx.Property(t.Context(), p.ID)
			must(t, err)
			same(t, "Property", got, p)
			got, err = tx.PropertyByName(t.Context(), "Maple Court")
			must(t, err)
			same(t, "PropertyByName", got, p)

			p.Timezone, p.MaintenancePhone = "America/Chicago", "+15555550199"
			must(t, tx.UpdateProperty(t.Context(), p))
			got, err = tx.Property(t.Context(), p.ID)
			must(t, err)
			same(t, "updated property", got, p)

			_, err = tx.Property(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			if msg := sparekey.ErrorMessage(err); msg != "property 999 not found" {
				t.Errorf("message = %q", msg)
			}
			_, err = tx.PropertyByName(t.Context(), "Nowhere")
			wantCode(t, err, sparekey.ENOTFOUND)
			wantCode(t, tx.UpdateProperty(t.Context(), &sparekey.Property{ID: 999, Name: "x"}), sparekey.ENOTFOUND)
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateProperty(t.Context(), &sparekey.Property{Name: "Maple Court", Timezone: "UTC", CreatedAt: testkit.T0})
		})
		wantCode(t, err, sparekey.ECONFLICT)
	})
}

func TestUnits(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		u := &sparekey.Unit{PropertyID: f.property.ID, Name: "102"}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateUnit(t.Context(), u))
			got, err := tx.Unit(t.Context(), u.ID)
			must(t, err)
			same(t, "Unit", got, u)
			got, err = tx.UnitByName(t.Context(), f.property.ID, "102")
			must(t, err)
			same(t, "UnitByName", got, u)

			_, err = tx.Unit(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			_, err = tx.UnitByName(t.Context(), f.property.ID+1, "102")
			wantCode(t, err, sparekey.ENOTFOUND)
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateUnit(t.Context(), &sparekey.Unit{PropertyID: f.property.ID, Name: "102"})
		})
		wantCode(t, err, sparekey.ECONFLICT)
	})
}

// Names sort by their bytes on both databases (SQLite's BINARY collation;
// COLLATE "C" on PostgreSQL, whatever the database's default collation),
// so lists come out in the same order everywhere.
func TestPropertiesSortByBytes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		inTx(t, db, func(tx sparekey.Tx) {
			for _, name := range []string{"apple", "Äpfel", "Banana", "banana", "Apple"} {
				must(t, tx.CreateProperty(t.Context(), &sparekey.Property{Name: name, Timezone: "UTC", CreatedAt: testkit.T0}))
			}
			all, err := tx.Properties(t.Context())
			must(t, err)
			var names []string
			for _, p := range all {
				names = append(names, p.Name)
			}
			same(t, "Properties", names, []string{"Apple", "Banana", "apple", "banana", "Äpfel"})
		})
	})
}
