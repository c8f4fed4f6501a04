package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func TestAuditEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e1 := &sparekey.AuditEvent{At: testkit.T0.Add(-2 * time.Minute), Actor: "anonymous", Action: "backup.requested",
			IP: "10.0.0.1", UserAgent: "curl", Detail: map[string]string{"kind": "email"}}
		e2 := &sparekey.AuditEvent{At: testkit.T0.Add(-time.Minute), Actor: "resident:12", Action: "link.revealed",
			Subject: "link:7", Detail: map[string]string{}}
		e3 := &sparekey.AuditEvent{At: testkit.T0.Add(-time.Minute), Actor: "system", Action: "lock.jammed",
			Subject: "lock:unit-101-front"} // nil Detail, same time as e2
		inTx(t, db, func(tx sparekey.Tx) {
			for _, e := range []*sparekey.AuditEvent{e1, e2, e3} {
				must(t, tx.RecordAudit(t.Context(), e))
			}
			got, err := tx.AuditEvents(t.Context(), 0)
			must(t, err)
			same(t, "AuditEvents, newest first", got, []*sparekey.AuditEvent{e3, e2, e1})
			got, err = tx.AuditEvents(t.Context(), 1)
			must(t, err)
			same(t, "AuditEvents, limit 1", got, []*sparekey.AuditEvent{e3})
		})
	})
}

func TestLockEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		back := newLock(f.unit.ID, "unit-101-back")
		var events []*sparekey.LockEvent
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateLock(t.Context(), back))
			events = []*sparekey.LockEvent{
				{LockID: f.lock.ID, At: testkit.T0.Add(-3 * time.Minute), Kind: sparekey.EventJammed, Slot: -1, Detail: "door_state: error_jammed"},
				{LockID: f.lock.ID, At: testkit.T0.Add(-time.Minute), Kind: sparekey.EventKeypadUnlock, Slot: 4},
				{LockID: back.ID, At: testkit.T0, Kind: sparekey.EventOffline, Slot: -1},
				{LockID: f.lock.ID, At: testkit.T0.Add(-2 * time.Minute), Kind: sparekey.EventJamCleared, Slot: -1},
			}
			for _, e := range events {
				must(t, tx.RecordLockEvent(t.Context(), e))
			}
			got, err := tx.LockEvents(t.Context(), f.lock.ID, 10)
			must(t, err)
			same(t, "LockEvents, newest first", got, []*sparekey.LockEvent{events[1], events[3], events[0]})
			got, err = tx.LockEvents(t.Context(), f.lock.ID, 2)
			must(t, err)
			same(t, "LockEvents, limit 2", got, []*sparekey.LockEvent{events[1], events[3]})
		})
	})
}

func TestSearchAudit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		events := []*sparekey.AuditEvent{
			{At: testkit.T0.Add(-4 * time.Hour), Actor: "system", Action: "work_order.opened", Subject: "work_order:1"},
			{At: testkit.T0.Add(-3 * time.Hour), Actor: "staff:3", Action: "work_order.assigned", Subject: "work_order:1"},
			{At: testkit.T0.Add(-2 * time.Hour), Actor: "system", Action: "lock.jammed", Subject: "lock:unit-101-front"},
			{At: testkit.T0.Add(-2 * time.Hour), Actor: "system", Action: "lock.jammed_again", Subject: "lock:unit-101-front"},
			{At: testkit.T0.Add(-time.Hour), Actor: "staff:3", Action: "work_order.resolved", Subject: "work_order:1"},
			{At: testkit.T0, Actor: "staff:30", Action: "work_orderly", Subject: "work_order:10"},
			{At: testkit.T0, Actor: "resident:12", Action: "ünïcode.päth", Subject: "x"},
		}
		e := events
		inTx(t, db, func(tx sparekey.Tx) {
			for _, ev := range events {
				must(t, tx.RecordAudit(t.Context(), ev))
			}
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for _, c := range []struct {
				name   string
				filter sparekey.AuditFilter
				want   []*sparekey.AuditEvent
			}{
				{"all", sparekey.AuditFilter{}, []*sparekey.AuditEvent{e[6], e[5], e[4], e[3], e[2], e[1], e[0]}},
				{"limit", sparekey.AuditFilter{Limit: 2}, []*sparekey.AuditEvent{e[6], e[5]}},
				{"prefix", sparekey.AuditFilter{ActionPrefix: "work_order."}, []*sparekey.AuditEvent{e[4], e[1], e[0]}},
				{"prefix without dot", sparekey.AuditFilter{ActionPrefix: "work_order"}, []*sparekey.AuditEvent{e[5], e[4], e[1], e[0]}},
				{"whole action", sparekey.AuditFilter{ActionPrefix: "lock.jammed"}, []*sparekey.AuditEvent{e[3], e[2]}},
				{"wildcards are plain", sparekey.AuditFilter{ActionPrefix: "work%"}, []*sparekey.AuditEvent{}},
				{"case matters", sparekey.AuditFilter{ActionPrefix: "Lock."}, []*sparekey.AuditEvent{}},
				{"non-ASCII prefix", sparekey.AuditFilter{ActionPrefix: "ünï"}, []*sparekey.AuditEvent{e[6]}},
				{"actor", sparekey.AuditFilter{Actor: "staff:3"}, []*sparekey.AuditEvent{e[4], e[1]}},
				{"subject", sparekey.AuditFilter{Subject: "lock:unit-101-front"}, []*sparekey.AuditEvent{e[3], e[2]}},
				{"since, inclusive", sparekey.AuditFilter{Since: testkit.T0.Add(-time.Hour)}, []*sparekey.AuditEvent{e[6], e[5], e[4]}},
				{"until, exclusive", sparekey.AuditFilter{Until: testkit.T0.Add(-2 * time.Hour)}, []*sparekey.AuditEvent{e[1], e[0]}},
				{"since and until", sparekey.AuditFilter{Since: testkit.T0.Add(-3 * time.Hour), Until: testkit.T0}, []*sparekey.AuditEvent{e[4], e[3], e[2], e[1]}},
				{"everything", sparekey.AuditFilter{ActionPrefix: "work_order.", Actor: "staff:3", Subject: "work_order:1",
					Since: testkit.T0.Add(-4 * time.Hour), Until: testkit.T0, Limit: 1}, []*sparekey.AuditEvent{e[4]}},
			} {
				got, err := tx.SearchAudit(t.Context(), c.filter)
				must(t, err)
				same(t, "SearchAudit "+c.name, got, c.want)
			}
			return nil
		}))
	})
}
