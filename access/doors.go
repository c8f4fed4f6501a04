package access

import (
	"context"
	"slices"
	"strings"
	"time"

	"sparekey"
)

// Doors answers staff questions about locks (their health, their events)
// and locks or unlocks them remotely.
type Doors struct {
	base
}

// LockInfo is a lock's live state as staff see it.
type LockInfo struct {
	Lock         *sparekey.Lock
	Unit         string
	PropertyID   int64
	SlotsPending int
	SlotsFailed  int
	PoolReady    int // confirmed backup codes nobody holds
	// Problems are the slots not on the lock as they should be that have
	// failed at least once, worst first.
	Problems []SlotProblem
}

// SlotProblem is a slot whose code has not reached the lock.
type SlotProblem struct {
	Slot      int
	Purpose   sparekey.SlotPurpose
	Status    sparekey.SyncStatus // pending or failed
	Attempts  int
	Error     string
	NextRetry time.Time
}

// LockInfo describes the lock with the given device name.
func (d *Doors) LockInfo(ctx context.Context, device string) (*LockInfo, error) {
	var info *LockInfo
	err := d.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		info, err = lockInfo(ctx, tx, lock)
		return err
	})
	return info, err
}

// Locks describes every lock, by device name.
func (d *Doors) Locks(ctx context.Context) ([]*LockInfo, error) {
	var infos []*LockInfo
	err := d.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		locks, err := tx.Locks(ctx)
		if err != nil {
			return err
		}
		infos = make([]*LockInfo, 0, len(locks))
		for _, lock := range locks {
			info, err := lockInfo(ctx, tx, lock)
			if err != nil {
				return err
			}
			infos = append(infos, info)
		}
		return nil
	})
	slices.SortFunc(infos, func(a, b *LockInfo) int { return strings.Compare(a.Lock.Device, b.Lock.Device) })
	return infos, err
}

func lockInfo(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock) (*LockInfo, error) {
	unit, err := tx.Unit(ctx, lock.UnitID)
	if err != nil {
		return nil, err
	}
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return nil, err
	}
	info := &LockInfo{Lock: lock, Unit: unit.Name, PropertyID: unit.PropertyID, Problems: []SlotProblem{}}
	for _, sl := range slots {
		switch sl.Sync {
		case sparekey.SyncPending:
			info.SlotsPending++
		case sparekey.SyncFailed:
			info.SlotsFailed++
		}
		if sl.Sync != sparekey.SyncSynced && (sl.SyncError != "" || sl.Sync == sparekey.SyncFailed) {
			info.Problems = append(info.Problems, SlotProblem{Slot: sl.Number, Purpose: sl.Purpose, Status: sl.Sync,
				Attempts: sl.SyncAttempts, Error: sl.SyncError, NextRetry: sl.NextSyncAt})
		}
		if sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupAvailable && sl.Usable() {
			info.PoolReady++
		}
	}
	slices.SortFunc(info.Problems, func(a, b SlotProblem) int {
		if a.Status != b.Status {
			return strings.Compare(string(a.Status), string(b.Status)) // failed before pending
		}
		return a.Slot - b.Slot
	})
	return info, nil
}

// Operate locks or unlocks a door remotely for actor (e.g. "staff:admin").
// An offline lock is lock_offline and a jammed one lock_jammed, without
// waiting on the lock.
func (d *Doors) Operate(ctx context.Context, device string, unlock bool, actor string) error {
	var lock *sparekey.Lock
	err := d.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		lock, err = tx.LockByDevice(ctx, device)
		return err
	})
	if err != nil {
		return err
	}
	// The command may reach the lock even if the caller gives up waiting:
	// the action is audited whatever happens to the request, refused
	// ones too (who tried to open which door, and why it did not).
	bg := context.WithoutCancel(ctx)
	action := "lock.remote_" + verb(unlock)
	switch {
	case !lock.Online:
		err = sparekey.Errorf(sparekey.ELOCKOFFLINE, "%s is offline: it cannot be reached to %s. Backup codes on the keypad still work.", lock.Name, verb(unlock))
	case lock.State == sparekey.LockStateJammed:
		err = sparekey.Errorf(sparekey.ELOCKJAMMED, "%s is jammed: realign the door (push or pull it) and try again, or call maintenance.", lock.Name)
	case unlock:
		err = d.cfg.Driver.Unlock(ctx, device)
	default:
		err = d.cfg.Driver.Lock(ctx, device)
	}
	detail := map[string]string{"result": "ok"}
	if err != nil {
		detail["result"] = sparekey.ErrorCode(err)
		if ctx.Err() != nil && lock.Online && lock.State != sparekey.LockStateJammed {
			detail["result"] = "not_awaited" // sent, but the caller left; the lock may have moved
		}
	}
	auditErr := d.cfg.Store.Tx(bg, func(tx sparekey.Tx) error {
		if err == nil {
			// The driver returns once the lock confirmed the bolt moved:
			// record it now, so the page the caller sees next says so
			// (the lock's report, a moment later, says the same).
			l, lerr := tx.LockByDevice(bg, device)
			if lerr != nil {
				return lerr
			}
			want := sparekey.LockStateLocked
			if unlock {
				want = sparekey.LockStateUnlocked
			}
			if l.State != want && l.State != sparekey.LockStateJammed {
				l.State = want
				if err := tx.UpdateLock(bg, l); err != nil {
					return err
				}
			}
		}
		return tx.RecordAudit(bg, &sparekey.AuditEvent{At: d.now(), Actor: actor, Action: action, Subject: "lock:" + device, Detail: detail})
	})
	if err != nil {
		return err
	}
	return auditErr
}

func verb(unlock bool) string {
	if unlock {
		return "unlock"
	}
	return "lock"
}

// LockEvents returns the lock's most recent events, newest first.
func (d *Doors) LockEvents(ctx context.Context, device string, limit int) ([]*sparekey.LockEvent, error) {
	var events []*sparekey.LockEvent
	err := d.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		events, err = tx.LockEvents(ctx, lock.ID, limit)
		return err
	})
	return events, err
}
