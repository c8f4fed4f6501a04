package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/store"
)

func TestAuditEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e1 := &sparekey.AuditEvent{At: t0.Add(-2 * time.Minute), Actor: "anonymous", Action: "backup.requested",
			IP: "10.0.0.1", UserAgent: "curl", Detail: map[string]string{"kind": "email"}}
		e2 := &sparekey.AuditEvent{At: t0.Add(-time.Minute), Actor: "resident:12", Action: "link.revealed",
			Subject: "link:7", Detail: map[string]string{}}
		e3 := &sparekey.AuditEvent{At: t0.Add(-time.Minute), Actor: "system", Action: "lock.jammed",
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
				{LockID: f.lock.ID, At: t0.Add(-3 * time.Minute), Kind: sparekey.EventJammed, Slot: -1, Detail: "door_state: error_jammed"},
				{LockID: f.lock.ID, At: t0.Add(-time.Minute), Kind: sparekey.EventKeypadUnlock, Slot: 4},
				{LockID: back.ID, At: t0, Kind: sparekey.EventOffline, Slot: -1},
				{LockID: f.lock.ID, At: t0.Add(-2 * time.Minute), Kind: sparekey.EventJamCleared, Slot: -1},
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
