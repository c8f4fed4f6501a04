package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

// A property without a jam rule gets the default one; a rule of its own
// reads back as written.
func TestPropertyJamRule(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		p := &sparekey.Property{Name: "Oak", Timezone: "UTC", CreatedAt: testkit.T0}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateProperty(t.Context(), p))
			same(t, "rule set on create", p.JamRule, sparekey.DefaultJamRule)
			got, err := tx.Property(t.Context(), p.ID)
			must(t, err)
			same(t, "default rule", got.JamRule, sparekey.DefaultJamRule)

			p.JamRule = sparekey.JamRule{Jams: 5, Window: 36 * time.Hour, Uncleared: 90 * time.Second}
			must(t, tx.UpdateProperty(t.Context(), p))
			got, err = tx.PropertyByName(t.Context(), "Oak")
			must(t, err)
			same(t, "own rule", got, p)

			p.JamRule = sparekey.JamRule{}
			must(t, tx.UpdateProperty(t.Context(), p))
			all, err := tx.Properties(t.Context())
			must(t, err)
			same(t, "rule reset to the default", all[0].JamRule, sparekey.DefaultJamRule)
		})
	})
}

func TestJams(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		back := newLock(f.unit.ID, "unit-101-back")
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateLock(t.Context(), back))
			_, err := tx.OpenJam(t.Context(), f.lock.ID)
			wantCode(t, err, sparekey.ENOTFOUND)

			old := &sparekey.Jam{LockID: f.lock.ID, StartedAt: testkit.T0.Add(-3 * time.Hour), Cause: "keypad",
				ClearedAt: ptr(testkit.T0.Add(-2 * time.Hour)), ClearedBy: "unlocked"}
			open := &sparekey.Jam{LockID: f.lock.ID, StartedAt: testkit.T0.Add(-time.Hour), Cause: "door_state: error_jammed"}
			other := &sparekey.Jam{LockID: back.ID, StartedAt: testkit.T0.Add(-2 * time.Hour), Cause: "keypad", Attempts: 2}
			for _, j := range []*sparekey.Jam{old, open, other} {
				must(t, tx.CreateJam(t.Context(), j))
			}
			if open.ID == 0 {
				t.Fatal("CreateJam did not set the ID")
			}
			got, err := tx.OpenJam(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "OpenJam", got, open)

			got.Attempts = 3
			must(t, tx.UpdateJam(t.Context(), got))
			open.Attempts = 3

			jams, err := tx.JamsSince(t.Context(), f.lock.ID, testkit.T0.Add(-4*time.Hour), 0)
			must(t, err)
			same(t, "JamsSince, newest first", jams, []*sparekey.Jam{open, old})
			jams, err = tx.JamsSince(t.Context(), f.lock.ID, old.StartedAt, 0)
			must(t, err)
			same(t, "JamsSince excludes since", jams, []*sparekey.Jam{open})
			jams, err = tx.JamsSince(t.Context(), f.lock.ID, testkit.T0.Add(-4*time.Hour), 1)
			must(t, err)
			same(t, "JamsSince, limit 1", jams, []*sparekey.Jam{open})

			jams, err = tx.UnclearedJams(t.Context(), testkit.T0)
			must(t, err)
			same(t, "UnclearedJams, oldest first", jams, []*sparekey.Jam{other, open})
			jams, err = tx.UnclearedJams(t.Context(), open.StartedAt.Add(-time.Microsecond))
			must(t, err)
			same(t, "UnclearedJams before the open one", jams, []*sparekey.Jam{other})
			jams, err = tx.UnclearedJams(t.Context(), open.StartedAt)
			must(t, err)
			same(t, "UnclearedJams includes before", jams, []*sparekey.Jam{other, open})

			open.ClearedAt, open.ClearedBy = ptr(testkit.T0), "jam_cleared"
			must(t, tx.UpdateJam(t.Context(), open))
			_, err = tx.OpenJam(t.Context(), f.lock.ID)
			wantCode(t, err, sparekey.ENOTFOUND)
			jams, err = tx.UnclearedJams(t.Context(), testkit.T0)
			must(t, err)
			same(t, "UnclearedJams after clearing", jams, []*sparekey.Jam{other})

			wantCode(t, tx.UpdateJam(t.Context(), &sparekey.Jam{ID: 999, LockID: f.lock.ID}), sparekey.ENOTFOUND)
		})
		// Reads in a read-only transaction take no row locks.
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			_, err := tx.OpenJam(t.Context(), back.ID)
			return err
		}))
	})
}

func newWorkOrder(f fixture, at time.Time) *sparekey.WorkOrder {
	return &sparekey.WorkOrder{PropertyID: f.property.ID, UnitID: f.unit.ID, LockID: f.lock.ID,
		Kind: sparekey.WorkOrderLockJam, Status: sparekey.WorkOrderOpen, Source: sparekey.SourceJamRule,
		Summary: "3 jams within 14 days", JamCount: 3, CreatedAt: at, UpdatedAt: at}
}

func TestWorkOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		w := newWorkOrder(f, testkit.T0)
		inTx(t, db, func(tx sparekey.Tx) {
			_, err := tx.ActiveWorkOrder(t.Context(), f.lock.ID)
			wantCode(t, err, sparekey.ENOTFOUND)
			must(t, tx.CreateWorkOrder(t.Context(), w))
			if w.ID == 0 {
				t.Fatal("CreateWorkOrder did not set the ID")
			}
			got, err := tx.WorkOrder(t.Context(), w.ID)
			must(t, err)
			same(t, "WorkOrder", got, w)
			got, err = tx.ActiveWorkOrder(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "ActiveWorkOrder", got, w)

			_, err = tx.WorkOrder(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			if msg := sparekey.ErrorMessage(err); msg != "work order 999 not found" {
				t.Errorf("message = %q", msg)
			}
			wantCode(t, tx.UpdateWorkOrder(t.Context(), &sparekey.WorkOrder{ID: 999, Status: sparekey.WorkOrderOpen}), sparekey.ENOTFOUND)

			// A second unresolved work order for the lock is a conflict,
			// and the transaction goes on.
			err = tx.CreateWorkOrder(t.Context(), newWorkOrder(f, testkit.T0.Add(time.Minute)))
			wantCode(t, err, sparekey.ECONFLICT)
			if msg := sparekey.ErrorMessage(err); msg != "lock already has an open work order" {
				t.Errorf("message = %q", msg)
			}
			staff := &sparekey.Staff{Email: "fix@example.com", Name: "Fixer", Role: sparekey.RoleMaintenance, CreatedAt: testkit.T0}
			must(t, tx.CreateStaff(t.Context(), staff))

			w.Status, w.AssigneeID, w.StartedAt = sparekey.WorkOrderInProgress, staff.ID, ptr(testkit.T0.Add(time.Hour))
			w.HealthyOps, w.LastHealthyAt, w.UpdatedAt = 2, ptr(testkit.T0.Add(2*time.Hour)), testkit.T0.Add(2*time.Hour)
			must(t, tx.UpdateWorkOrder(t.Context(), w))
			got, err = tx.WorkOrder(t.Context(), w.ID)
			must(t, err)
			same(t, "updated work order", got, w)

			w.Status, w.Resolution, w.ResolvedAt = sparekey.WorkOrderResolved, "Replaced the strike plate", ptr(testkit.T0.Add(3*time.Hour))
			w.AssigneeID = 0
			must(t, tx.UpdateWorkOrder(t.Context(), w))
			got, err = tx.WorkOrder(t.Context(), w.ID)
			must(t, err)
			same(t, "resolved work order", got, w)
			_, err = tx.ActiveWorkOrder(t.Context(), f.lock.ID)
			wantCode(t, err, sparekey.ENOTFOUND)
		})

		// Once resolved, the lock may have a new one; reopening the old
		// one then is a conflict.
		next := newWorkOrder(f, testkit.T0.Add(4*time.Hour))
		next.Source = sparekey.SourceResident
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateWorkOrder(t.Context(), next))
			got, err := tx.ActiveWorkOrder(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "new ActiveWorkOrder", got, next)
			w.Status = sparekey.WorkOrderOpen
			wantCode(t, tx.UpdateWorkOrder(t.Context(), w), sparekey.ECONFLICT)
			w.Status = sparekey.WorkOrderResolved
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			got, err := tx.WorkOrder(t.Context(), w.ID)
			same(t, "work order after the refused reopening", got, w)
			return err
		}))
	})
}

func TestWorkOrdersFilter(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		var other fixture
		var back *sparekey.Lock
		var a, b, c, d *sparekey.WorkOrder
		inTx(t, db, func(tx sparekey.Tx) {
			other.property = &sparekey.Property{Name: "Birch", Timezone: "UTC", CreatedAt: testkit.T0}
			must(t, tx.CreateProperty(t.Context(), other.property))
			other.unit = &sparekey.Unit{PropertyID: other.property.ID, Name: "1"}
			must(t, tx.CreateUnit(t.Context(), other.unit))
			other.lock = newLock(other.unit.ID, "birch-1")
			must(t, tx.CreateLock(t.Context(), other.lock))
			back = newLock(f.unit.ID, "unit-101-back")
			must(t, tx.CreateLock(t.Context(), back))

			a = newWorkOrder(f, testkit.T0) // resolved
			a.Status, a.ResolvedAt, a.Resolution = sparekey.WorkOrderResolved, ptr(testkit.T0.Add(time.Hour)), "fixed"
			b = newWorkOrder(f, testkit.T0.Add(2*time.Hour)) // open, front lock
			c = newWorkOrder(f, testkit.T0.Add(3*time.Hour)) // in progress, back lock
			c.LockID, c.Status = back.ID, sparekey.WorkOrderInProgress
			d = newWorkOrder(other, testkit.T0.Add(time.Hour)) // open, other property
			for _, w := range []*sparekey.WorkOrder{a, b, c, d} {
				must(t, tx.CreateWorkOrder(t.Context(), w))
			}
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for _, c := range []struct {
				name   string
				filter sparekey.WorkOrderFilter
				want   []*sparekey.WorkOrder
			}{
				{"all", sparekey.WorkOrderFilter{}, []*sparekey.WorkOrder{c, b, d, a}},
				{"limit", sparekey.WorkOrderFilter{Limit: 2}, []*sparekey.WorkOrder{c, b}},
				{"property", sparekey.WorkOrderFilter{PropertyIDs: []int64{f.property.ID}}, []*sparekey.WorkOrder{c, b, a}},
				{"properties", sparekey.WorkOrderFilter{PropertyIDs: []int64{f.property.ID, other.property.ID}}, []*sparekey.WorkOrder{c, b, d, a}},
				{"no property", sparekey.WorkOrderFilter{PropertyIDs: []int64{}}, []*sparekey.WorkOrder{}},
				{"status", sparekey.WorkOrderFilter{Status: sparekey.WorkOrderOpen}, []*sparekey.WorkOrder{b, d}},
				{"resolved", sparekey.WorkOrderFilter{Status: sparekey.WorkOrderResolved}, []*sparekey.WorkOrder{a}},
				{"lock", sparekey.WorkOrderFilter{LockID: f.lock.ID}, []*sparekey.WorkOrder{b, a}},
				{"lock, limit 1", sparekey.WorkOrderFilter{LockID: f.lock.ID, Limit: 1}, []*sparekey.WorkOrder{b}},
				{"property and status", sparekey.WorkOrderFilter{PropertyIDs: []int64{f.property.ID}, Status: sparekey.WorkOrderInProgress}, []*sparekey.WorkOrder{c}},
				{"nothing", sparekey.WorkOrderFilter{PropertyIDs: []int64{other.property.ID}, LockID: f.lock.ID}, []*sparekey.WorkOrder{}},
			} {
				got, err := tx.WorkOrders(t.Context(), c.filter)
				must(t, err)
				same(t, "WorkOrders "+c.name, got, c.want)
			}
			return nil
		}))
	})
}

func TestWorkOrderNotesAndWatchers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		w := newWorkOrder(f, testkit.T0)
		neighbor := &sparekey.Resident{UnitID: f.unit.ID, Name: "Bo", Email: "bo@example.com", CreatedAt: testkit.T0}
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateWorkOrder(t.Context(), w))
			must(t, tx.CreateResident(t.Context(), neighbor))

			notes := []*sparekey.WorkOrderNote{
				{WorkOrderID: w.ID, At: testkit.T0, Author: "system", Kind: "opened", Text: "3 jams within 14 days"},
				{WorkOrderID: w.ID, At: testkit.T0.Add(2 * time.Hour), Author: "staff:3", Kind: "note", Text: "Ordered a part"},
				{WorkOrderID: w.ID, At: testkit.T0.Add(time.Hour), Author: "resident:12", Kind: "report", Text: "Still stuck"},
				{WorkOrderID: w.ID, At: testkit.T0.Add(2 * time.Hour), Author: "system", Kind: "jam", Text: "Jammed again"},
			}
			for _, n := range notes {
				must(t, tx.AddWorkOrderNote(t.Context(), n))
			}
			got, err := tx.WorkOrderNotes(t.Context(), w.ID)
			must(t, err)
			same(t, "WorkOrderNotes, oldest first", got, []*sparekey.WorkOrderNote{notes[0], notes[2], notes[1], notes[3]})
			got, err = tx.WorkOrderNotes(t.Context(), 999)
			must(t, err)
			same(t, "no notes", got, []*sparekey.WorkOrderNote{})

			ws, err := tx.WorkOrderWatchers(t.Context(), w.ID)
			must(t, err)
			same(t, "no watchers", ws, []sparekey.WorkOrderWatcher{})
			must(t, tx.AddWorkOrderWatcher(t.Context(), w.ID, sparekey.WorkOrderWatcher{ResidentID: neighbor.ID, Language: "en"}))
			must(t, tx.AddWorkOrderWatcher(t.Context(), w.ID, sparekey.WorkOrderWatcher{ResidentID: f.resident.ID, Language: "es"}))
			// Again: still one subscription, in the language of the latest report.
			must(t, tx.AddWorkOrderWatcher(t.Context(), w.ID, sparekey.WorkOrderWatcher{ResidentID: neighbor.ID, Language: "es"}))
			ws, err = tx.WorkOrderWatchers(t.Context(), w.ID)
			must(t, err)
			same(t, "WorkOrderWatchers", ws, []sparekey.WorkOrderWatcher{{ResidentID: f.resident.ID, Language: "es"}, {ResidentID: neighbor.ID, Language: "es"}})
		})
	})
}
