package access

import (
	"context"
	"fmt"

	"sparekey"
)

// Departure is the outcome of a move-out.
type Departure struct {
	Resident     *sparekey.Resident
	Unit         string
	CodesCleared int
}

// MoveOutContact moves out the active resident with this email address or
// E.164 phone number (see MoveOut). allowed says whether the caller works
// for the resident's property (nil: any); a resident of another property
// is not found.
func (s *Service) MoveOutContact(ctx context.Context, kind sparekey.ContactKind, value, actor string, allowed func(propertyID int64) bool) (*Departure, error) {
	var r *sparekey.Resident
	var unit *sparekey.Unit
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if kind == sparekey.ContactEmail {
			r, err = tx.ResidentByEmail(ctx, value)
		} else {
			r, err = tx.ResidentByPhone(ctx, value)
		}
		if err != nil {
			return err
		}
		if unit, err = tx.Unit(ctx, r.UnitID); err != nil {
			return err
		}
		if allowed != nil && !allowed(unit.PropertyID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "resident not found")
		}
		return nil
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil, sparekey.Errorf(sparekey.ENOTFOUND, "no resident has that %s", kind)
	} else if err != nil {
		return nil, err
	}
	n, err := s.MoveOut(ctx, r.ID, actor)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r.MovedOutAt = &now
	return &Departure{Resident: r, Unit: unit.Name, CodesCleared: n}, nil
}

// MoveOut ends a resident's access: their access codes are cleared from
// every lock of their unit (the reconciler takes them off within seconds
// while a lock is online, as soon as it is back otherwise), backup codes
// they hold are rotated, and their backup links stop working. It returns
// the number of codes that will be cleared. Moving out twice is a
// conflict, not a second clearing.
func (s *Service) MoveOut(ctx context.Context, residentID int64, actor string) (int, error) {
	cleared := 0
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		cleared = 0
		r, err := tx.Resident(ctx, residentID)
		if err != nil {
			return err
		}
		if !r.Active() {
			return sparekey.Errorf(sparekey.ECONFLICT, "%s moved out on %s", r.Name, r.MovedOutAt.Format("2006-01-02"))
		}
		now := s.now()
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
					if err := s.rotate(ctx, tx, lock, sl, "moved_out"); err != nil {
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
		s.Nudge()
	}
	return cleared, err
}
