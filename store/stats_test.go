package store_test

import (
	"context"
	"testing"
	"time"

	"sparekey"
	"sparekey/store"
)

func TestStats(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		must(t, db.Tx(ctx, func(tx sparekey.Tx) error {
			p := &sparekey.Property{Name: "Maple Court", Timezone: "America/New_York"}
			if err := tx.CreateProperty(ctx, p); err != nil {
				return err
			}
			u := &sparekey.Unit{PropertyID: p.ID, Name: "101"}
			if err := tx.CreateUnit(ctx, u); err != nil {
				return err
			}
			for i, l := range []*sparekey.Lock{
				{Device: "a", State: sparekey.LockStateLocked, Online: true, Battery: 90},
				{Device: "b", State: sparekey.LockStateJammed, Online: true, Battery: 15},
				{Device: "c", Online: false, Battery: -1},
			} {
				l.UnitID, l.Name, l.Adapter, l.SlotCount, l.CodeMin, l.CodeMax = u.ID, "Door", "z2m", 30, 4, 8
				if err := tx.CreateLock(ctx, l); err != nil {
					return err
				}
				sl := &sparekey.Slot{LockID: l.ID, Number: i, Purpose: sparekey.SlotBackup, Code: "48291" + string(rune('0'+i)),
					Sync: sparekey.SyncPending, NextSyncAt: now, Backup: sparekey.BackupAvailable}
				if i == 0 {
					sl.Sync = sparekey.SyncSynced
				}
				if err := tx.CreateSlot(ctx, sl); err != nil {
					return err
				}
			}
			for _, m := range []*sparekey.Message{
				{Channel: sparekey.ChannelSMS, To: "+12015550101", Body: "x", Status: sparekey.MessageQueued},
				{Channel: sparekey.ChannelSMS, To: "+12015550101", Body: "y", Status: sparekey.MessageQueued},
				{Channel: sparekey.ChannelEmail, To: "ana@example.com", Subject: "s", Body: "z", Status: sparekey.MessageQueued},
			} {
				m.Kind, m.CreatedAt, m.NextAttemptAt = "backup_link", now, now
				if err := tx.CreateMessage(ctx, m); err != nil {
					return err
				}
			}
			return tx.CreateBackupRequest(ctx, &sparekey.BackupRequest{ContactHash: "h", ContactKind: sparekey.ContactEmail,
				IP: "192.0.2.1", Outcome: sparekey.OutcomePending, CreatedAt: now})
		}))
		var st *sparekey.Stats
		must(t, db.Read(ctx, func(tx sparekey.Tx) (err error) {
			st, err = tx.Stats(ctx)
			return err
		}))
		if st.Messages[sparekey.ChannelSMS][sparekey.MessageQueued] != 2 || st.Messages[sparekey.ChannelEmail][sparekey.MessageQueued] != 1 {
			t.Errorf("messages = %v", st.Messages)
		}
		if st.Locks[sparekey.LockStateLocked] != 1 || st.Locks[sparekey.LockStateJammed] != 1 || st.Locks[sparekey.LockStateUnknown] != 1 ||
			st.LocksOnline != 2 || st.LocksLowBattery != 1 {
			t.Errorf("locks = %v, online %d, low battery %d", st.Locks, st.LocksOnline, st.LocksLowBattery)
		}
		if st.Slots[sparekey.SyncSynced] != 1 || st.Slots[sparekey.SyncPending] != 2 || st.RequestsPending != 1 {
			t.Errorf("slots = %v, pending requests %d", st.Slots, st.RequestsPending)
		}
	})
}
