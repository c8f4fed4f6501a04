package roster

import (
	"context"
	"errors"

	"sparekey"
)

// Demo is the demo data that docs/api.md promises.
var Demo = []Entry{
	{Property: "Maple Court Apartments", Unit: "101", Lock: "unit-101-front", LockName: "Front door", Name: "Ana Ruiz", Email: "ana@example.com", Phone: "+12015550101", AccessCode: "482916"},
	{Property: "Maple Court Apartments", Unit: "102", Lock: "unit-102-front", LockName: "Front door", Name: "Ben Okafor", Email: "ben@example.com", Phone: "+12015550102", AccessCode: "731845"},
	{Property: "Maple Court Apartments", Unit: "103", Lock: "unit-103-front", LockName: "Front door", Name: "Chen Wei", Email: "chen@example.com", Phone: "+12015550103", AccessCode: "590273"},
}

// SeedDemo writes the demo data, in one transaction, into an empty
// database. One that holds the demo already is left alone, so restarting
// the demo keeps its state (rosters imported into it included); one that
// holds other data is refused, so the demo never mixes into real data.
func SeedDemo(ctx context.Context, store sparekey.Store, codes Codes, clock sparekey.Clock) (seeded bool, err error) {
	err = store.Tx(ctx, func(tx sparekey.Tx) error {
		// Instances starting together on one database seed it once.
		if err := tx.Serialize(ctx, "seed-demo"); err != nil {
			return err
		}
		// The demo made this database when its property holds its first
		// lock; a property of that name without it is someone else's.
		refuse := errors.New("--demo needs an empty database (or one the demo made), and this one holds other data: use another --db")
		if p, err := tx.PropertyByName(ctx, Demo[0].Property); err == nil {
			l, err := tx.LockByDevice(ctx, Demo[0].Lock)
			if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
				return refuse
			} else if err != nil {
				return err
			}
			if u, err := tx.Unit(ctx, l.UnitID); err != nil {
				return err
			} else if u.PropertyID != p.ID {
				return refuse
			}
			return nil
		} else if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
			return err
		}
		if locks, err := tx.Locks(ctx); err != nil {
			return err
		} else if len(locks) > 0 {
			return refuse
		}
		if err := addAll(ctx, tx, codes, clock.Now(), "system", Demo); err != nil {
			return err
		}
		p, err := tx.PropertyByName(ctx, Demo[0].Property)
		if err != nil {
			return err
		}
		p.MaintenanceEmail = "maintenance@example.com"
		p.MaintenancePhone = "+12015550199"
		seeded = true
		return tx.UpdateProperty(ctx, p)
	})
	return seeded && err == nil, err
}
