package access

import (
	"context"
	"fmt"

	"sparekey"
)

// MoveOut ends a resident's access: their access codes are cleared from
// every lock of their unit (the reconciler takes them off within seconds
// while a lock is online, as soon as it is back otherwise), backup codes
// they hold are rotated, and their backup links stop working. It returns
// the number of codes that will be cleared. Moving out twice is a
// conflict, not a second clearing.
func (c *Codes) MoveOut(ctx context.Context, residentID int64, actor string) (int, error) {
	cleared := 0
	err := c.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		cleared = 0
		r, err := tx.Resident(ctx, residentID)
		if err != nil {
			return err
		}
		if !r.Active() {
			return sparekey.Errorf(sparekey.ECONFLICT, "%s moved out on %s", r.Name, r.MovedOutAt.Format("2006-01-02"))
		}
		now := c.now()
		r.MovedOutAt = &now
		if err := tx.UpdateResident(ctx, r); err != nil {
			return err
		}
		if err := tx.RevokeBackupLinks(ctx, r.ID, now); err != nil {
			return err
		}
		locks, err := tx.LocksByUnit(ctx, r.UnitID)
		if err != nil {
			return err
		}
		for _, lock := range locks {
			slots, err := tx.SlotsByLock(ctx, lock.ID)
			if err != nil {
				return err
			}
			for _, sl := range slots {
				switch {
				case sl.Purpose == sparekey.SlotResident && sl.ResidentID == r.ID && sl.Code != "":
					sl.Code, sl.ResidentID = "", 0
					sl.Sync, sl.SyncAttempts, sl.SyncError, sl.NextSyncAt = sparekey.SyncPending, 0, "", now
					if err := tx.UpdateSlot(ctx, sl); err != nil {
						return err
					}
					cleared++
				case sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued && sl.IssuedTo == r.ID:
					if err := c.rotate(ctx, tx, lock, sl, "moved_out"); err != nil {
						return err
					}
					cleared++
				}
			}
		}
		return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: actor, Action: "resident.moved_out",
			Subject: fmt.Sprintf("resident:%d", r.ID), Detail: map[string]string{"codes": fmt.Sprint(cleared)}})
	})
	if err == nil {
		c.wake()
	}
	return cleared, err
}
