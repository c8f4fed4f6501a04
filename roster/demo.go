package roster

import (
	"context"
	"errors"

	"sparekey"
)

// Demo is the demo data of CONTRACT.md.
var Demo = []Entry{
	{Property: "Maple Court Apartments", Unit: "101", Lock: "unit-101-front", LockName: "Front door", Name: "Ana Ruiz", Email: "ana@example.com", Phone: "+12015550101", AccessCode: "482916"},
	{Property: "Maple Court Apartments", Unit: "102", Lock: "unit-102-front", LockName: "Front door", Name: "Ben Okafor", Email: "ben@example.com", Phone: "+12015550102", AccessCode: "731845"},
	{Property: "Maple Court Apartments", Unit: "103", Lock: "unit-103-front", LockName: "Front door", Name: "Chen Wei", Email: "chen@example.com", Phone: "+12015550103", AccessCode: "590273"},
}

// SeedDemo writes the demo data into an empty database. A database that
// already holds the demo property is left alone, so restarting the demo
// keeps its state; one holding other data is refused.
func SeedDemo(ctx context.Context, store sparekey.Store, codes Codes, clock sparekey.Clock) (seeded bool, err error) {
	empty := false
	err = store.Read(ctx, func(tx sparekey.Tx) error {
		if _, err := tx.PropertyByName(ctx, Demo[0].Property); err == nil {
			return nil
		} else if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
			return err
		}
		locks, err := tx.Locks(ctx)
		empty = err == nil && len(locks) == 0
		if err == nil && !empty {
			return errors.New("--demo needs an empty database, and this one holds other data; use another --db")
		}
		return err
	})
	if err != nil || !empty {
		return false, err
	}
	err = Add(ctx, store, codes, clock, Demo)
	if err != nil {
		return false, err
	}
	return true, store.Tx(ctx, func(tx sparekey.Tx) error {
		p, err := tx.PropertyByName(ctx, Demo[0].Property)
		if err != nil {
			return err
		}
		p.MaintenanceEmail = "maintenance@example.com"
		p.MaintenancePhone = "+12015550199"
		return tx.UpdateProperty(ctx, p)
	})
}
