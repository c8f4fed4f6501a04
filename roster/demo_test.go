package roster_test

import (
	"strings"
	"testing"

	"sparekey"
	"sparekey/access"
	"sparekey/roster"
)

func (b *testBundle) seedDemo() (bool, error) {
	return roster.SeedDemo(b.ctx, b.db, b.codes, b.clock)
}

// TestSeedDemo checks the demo data against docs/api.md, value by value.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seeded, err := b.seedDemo()
	if err != nil || !seeded {
		t.Fatalf("SeedDemo on an empty database = %v, %v", seeded, err)
	}
	type demoResident struct {
		unit, device, name, email, phone, code string
	}
	want := []demoResident{
		{"101", "unit-101-front", "Ana Ruiz", "ana@example.com", "+12015550101", "482916"},
		{"102", "unit-102-front", "Ben Okafor", "ben@example.com", "+12015550102", "731845"},
		{"103", "unit-103-front", "Chen Wei", "chen@example.com", "+12015550103", "590273"},
	}
	b.read(t, func(tx sparekey.Tx) error {
		p, err := tx.PropertyByName(b.ctx, "Maple Court Apartments")
		if err != nil {
			return err
		}
		if p.Timezone != "America/New_York" || p.MaintenanceEmail != "maintenance@example.com" || p.MaintenancePhone != "+12015550199" {
			t.Errorf("property = %+v", p)
		}
		locks, err := tx.Locks(b.ctx)
		if err != nil {
			return err
		}
		if len(locks) != 3 {
			t.Errorf("%d locks, want 3", len(locks))
		}
		for _, w := range want {
			u, err := tx.UnitByName(b.ctx, p.ID, w.unit)
			if err != nil {
				return err
			}
			ls, err := tx.LocksByUnit(b.ctx, u.ID)
			if err != nil {
				return err
			}
			if len(ls) != 1 || ls[0].Device != w.device || ls[0].Name != "Front door" {
				t.Errorf("unit %s locks = %+v", w.unit, ls)
				continue
			}
			rs, err := tx.ResidentsByUnit(b.ctx, u.ID)
			if err != nil {
				return err
			}
			if len(rs) != 1 {
				t.Errorf("unit %s has %d residents", w.unit, len(rs))
				continue
			}
			r := rs[0]
			if r.Name != w.name || r.Email != w.email || r.Phone != w.phone || !r.Active() {
				t.Errorf("unit %s resident = %+v, want %s %s %s", w.unit, r, w.name, w.email, w.phone)
			}
			slots, err := tx.SlotsByLock(b.ctx, ls[0].ID)
			if err != nil {
				return err
			}
			var pool int
			var mine *sparekey.Slot
			for _, sl := range slots {
				switch {
				case sl.Purpose == sparekey.SlotBackup:
					pool++
					if len(sl.Code) != 8 || access.Trivial(sl.Code) {
						t.Errorf("%s backup code %q", w.device, sl.Code)
					}
				case sl.Purpose == sparekey.SlotResident && sl.ResidentID == r.ID:
					mine = sl
				default:
					t.Errorf("%s: unexpected slot %+v", w.device, sl)
				}
			}
			if pool != 3 {
				t.Errorf("%s: backup pool of %d, want 3", w.device, pool)
			}
			if mine == nil || mine.Code != w.code || mine.Sync != sparekey.SyncPending {
				t.Errorf("%s: %s's slot = %+v, want access code %s", w.device, w.name, mine, w.code)
			}
		}
		return nil
	})

	// Restarting the demo keeps its state.
	before := b.dump(t)
	seeded, err = b.seedDemo()
	if err != nil || seeded {
		t.Fatalf("second SeedDemo = %v, %v; want false, nil", seeded, err)
	}
	sameDump(t, "a second SeedDemo", before, b.dump(t))

	// So does restarting it after a roster import into the demo.
	b.mustAdd(t, birch)
	before = b.dump(t)
	if seeded, err := b.seedDemo(); err != nil || seeded {
		t.Fatalf("SeedDemo after an import into the demo = %v, %v; want false, nil", seeded, err)
	}
	sameDump(t, "SeedDemo after an import", before, b.dump(t))
}

func TestSeedDemoRefusesOtherData(t *testing.T) {
	t.Parallel()
	t.Run("other property", func(t *testing.T) { seedDemoRefuses(t, birch) })
	// A property named like the demo's is not the demo without its locks.
	t.Run("a property of the demo's name", func(t *testing.T) {
		seedDemoRefuses(t, header+"Maple Court Apartments,201,unit-201-front,Ivy Chan,ivy@example.com,(201) 555-0131\n")
	})
}

func seedDemoRefuses(t *testing.T, file string) {
	t.Helper()
	b := setup(t)
	b.mustAdd(t, file)
	before := b.dump(t)
	seeded, err := b.seedDemo()
	if err == nil || seeded {
		t.Fatalf("SeedDemo on a database with other data = %v, %v", seeded, err)
	}
	if !strings.Contains(err.Error(), "empty database") {
		t.Errorf("error %q does not say the demo needs an empty database", err)
	}
	sameDump(t, "a refused SeedDemo", before, b.dump(t))
}
