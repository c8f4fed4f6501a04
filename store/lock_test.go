package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func TestLocks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		back := newLock(f.unit.ID, "unit-101-back")
		back.State, back.Battery, back.Online, back.LastSeen = sparekey.LockStateLocked, 87, true, ptr(testkit.T0)
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateLock(t.Context(), back))
			got, err := tx.Lock(t.Context(), back.ID)
			must(t, err)
			same(t, "Lock", got, back)
			got, err = tx.LockByDevice(t.Context(), "unit-101-front")
			must(t, err)
			same(t, "LockByDevice", got, f.lock)
			all, err := tx.Locks(t.Context())
			must(t, err)
			same(t, "Locks, by device", all, []*sparekey.Lock{back, f.lock})
			all, err = tx.LocksByUnit(t.Context(), f.unit.ID)
			must(t, err)
			same(t, "LocksByUnit", all, []*sparekey.Lock{back, f.lock})

			f.lock.State, f.lock.Battery, f.lock.Online, f.lock.LastSeen = sparekey.LockStateJammed, 12, true, ptr(testkit.T0.Add(time.Minute))
			must(t, tx.UpdateLock(t.Context(), f.lock))
			got, err = tx.Lock(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "updated lock", got, f.lock)

			_, err = tx.LockByDevice(t.Context(), "unit-999-front")
			wantCode(t, err, sparekey.ENOTFOUND)
			if msg := sparekey.ErrorMessage(err); msg != "lock unit-999-front not found" {
				t.Errorf("message = %q", msg)
			}
			_, err = tx.Lock(t.Context(), 999)
			wantCode(t, err, sparekey.ENOTFOUND)
			wantCode(t, tx.UpdateLock(t.Context(), &sparekey.Lock{ID: 999, UnitID: f.unit.ID, Device: "x"}), sparekey.ENOTFOUND)
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateLock(t.Context(), newLock(f.unit.ID, "unit-101-front"))
		})
		wantCode(t, err, sparekey.ECONFLICT)
		if msg := sparekey.ErrorMessage(err); msg != "lock unit-101-front already exists" {
			t.Errorf("message = %q", msg)
		}
	})
}

func TestSlots(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		resident := newSlot(f.lock.ID, 2, "2468013")
		resident.Purpose, resident.ResidentID = sparekey.SlotResident, f.resident.ID
		backup := newSlot(f.lock.ID, 0, "97531864")
		backup.Purpose, backup.Backup, backup.IssuedTo, backup.IssuedAt = sparekey.SlotBackup, sparekey.BackupIssued, f.resident.ID, ptr(testkit.T0)
		backup.Sync, backup.SyncedAt = sparekey.SyncSynced, ptr(testkit.T0.Add(-time.Hour))
		empty := newSlot(f.lock.ID, 1, "")
		empty.SyncAttempts, empty.SyncError = 3, "lock offline"
		inTx(t, db, func(tx sparekey.Tx) {
			for _, s := range []*sparekey.Slot{resident, backup, empty} {
				must(t, tx.CreateSlot(t.Context(), s))
			}
			got, err := tx.SlotsByLock(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "SlotsByLock, by number", got, []*sparekey.Slot{backup, empty, resident})

			backup.Backup, backup.UsedAt, backup.Code = sparekey.BackupUsed, ptr(testkit.T0.Add(time.Hour)), "11223344"
			backup.Sync, backup.SyncedAt, backup.NextSyncAt = sparekey.SyncPending, nil, testkit.T0.Add(time.Hour)
			resident.Code, resident.ResidentID, resident.Purpose = "", 0, sparekey.SlotGuest
			must(t, tx.UpdateSlot(t.Context(), backup))
			must(t, tx.UpdateSlot(t.Context(), resident))
			got, err = tx.SlotsByLock(t.Context(), f.lock.ID)
			must(t, err)
			same(t, "updated slots", got, []*sparekey.Slot{backup, empty, resident})

			wantCode(t, tx.UpdateSlot(t.Context(), &sparekey.Slot{ID: 999}), sparekey.ENOTFOUND)
			got, err = tx.SlotsByLock(t.Context(), 999)
			must(t, err)
			same(t, "slots of a missing lock", got, []*sparekey.Slot{})
		})
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 2, "1357913"))
		})
		wantCode(t, err, sparekey.ECONFLICT)
	})
}

func TestSlotsToSync(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		slot := func(n int, sync sparekey.SyncStatus, next time.Duration) *sparekey.Slot {
			s := newSlot(f.lock.ID, n, "")
			s.Sync, s.NextSyncAt = sync, testkit.T0.Add(next)
			return s
		}
		slots := []*sparekey.Slot{
			0: slot(0, sparekey.SyncPending, -time.Minute),
			1: slot(1, sparekey.SyncPending, -5*time.Minute),
			2: slot(2, sparekey.SyncPending, 0), // due exactly now
			3: slot(3, sparekey.SyncPending, time.Minute),
			4: slot(4, sparekey.SyncSynced, -10*time.Minute),
			5: slot(5, sparekey.SyncFailed, -10*time.Minute),
			6: slot(6, sparekey.SyncPending, -5*time.Minute), // ties with 1, created later
		}
		inTx(t, db, func(tx sparekey.Tx) {
			for _, s := range slots {
				must(t, tx.CreateSlot(t.Context(), s))
			}
			got, err := tx.SlotsToSync(t.Context(), testkit.T0, 10)
			must(t, err)
			// Failed slots are retried too, when due (hourly).
			same(t, "SlotsToSync", got, []*sparekey.Slot{slots[5], slots[1], slots[6], slots[0], slots[2]})
			got, err = tx.SlotsToSync(t.Context(), testkit.T0, 2)
			must(t, err)
			same(t, "SlotsToSync, limit 2", ids(got), ids([]*sparekey.Slot{slots[5], slots[1]}))
		})
	})
}

func TestIssuedBackupSlotsBefore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		cutoff := testkit.T0.Add(-sparekey.BackupCodeTTL)
		slot := func(n int, purpose sparekey.SlotPurpose, state sparekey.BackupState, issued time.Time) *sparekey.Slot {
			s := newSlot(f.lock.ID, n, "")
			s.Purpose, s.Backup, s.IssuedTo, s.IssuedAt = purpose, state, f.resident.ID, &issued
			return s
		}
		slots := []*sparekey.Slot{
			0: slot(0, sparekey.SlotBackup, sparekey.BackupIssued, cutoff.Add(-time.Hour)),
			1: slot(1, sparekey.SlotBackup, sparekey.BackupIssued, cutoff.Add(time.Hour)),
			2: slot(2, sparekey.SlotBackup, sparekey.BackupIssued, cutoff), // not before
			3: slot(3, sparekey.SlotBackup, sparekey.BackupUsed, cutoff.Add(-2*time.Hour)),
			4: slot(4, sparekey.SlotBackup, sparekey.BackupAvailable, cutoff.Add(-2*time.Hour)),
			5: slot(5, sparekey.SlotResident, sparekey.BackupIssued, cutoff.Add(-2*time.Hour)),
			6: slot(6, sparekey.SlotBackup, sparekey.BackupIssued, cutoff.Add(-2*time.Hour)),
		}
		inTx(t, db, func(tx sparekey.Tx) {
			for _, s := range slots {
				must(t, tx.CreateSlot(t.Context(), s))
			}
			got, err := tx.IssuedBackupSlotsBefore(t.Context(), cutoff)
			must(t, err)
			same(t, "IssuedBackupSlotsBefore, oldest first", got, []*sparekey.Slot{slots[6], slots[0]})
		})
	})
}
