package access

import (
	"context"
	"time"

	"sparekey"
)

// A lock's slots are made due at once, without waiting out their backoff,
// when the lock or the path to it comes back, or when the lock lost its
// codes.

// ObserveLockEvent programs a lock again when its report says so: a lock
// back online gets its pending and failed slots retried at once, and a lock
// that lost its codes (a reset) has every slot made pending. The Recorder
// wakes the reconciler once the event is committed.
func (r *Reconciler) ObserveLockEvent(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, _ sparekey.LockState, ev sparekey.DeviceEvent) error {
	switch ev.Kind {
	case sparekey.EventOnline:
		return retryNow(ctx, tx, lock, ev.At)
	case sparekey.EventReset:
		r.log.Warn("lock lost its codes; programming it anew", "lock", lock.Device)
		return resync(ctx, tx, lock, ev.At)
	}
	return nil
}

// Resync makes every slot of the lock pending again, to be programmed anew:
// for a lock that lost its memory (a reset, a replaced lock, or a simulated
// lock after a restart). Its backup codes are not issued again until the
// lock confirms them.
func (r *Reconciler) Resync(ctx context.Context, device string) error {
	err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		return resync(ctx, tx, lock, r.now())
	})
	if err == nil {
		r.Nudge()
	}
	return err
}

// Preload puts every code the lock should hold on it through program, not
// through the driver, and records each as confirmed: for a lock whose
// memory Sparekey fills itself, such as the demo's virtual locks at
// start-up, which stand for real locks that kept their codes. Empty slots
// are recorded empty.
func (r *Reconciler) Preload(ctx context.Context, device string, program func(slot int, code string) error) error {
	err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		slots, err := tx.SlotsByLock(ctx, lock.ID)
		if err != nil {
			return err
		}
		now := r.now()
		for _, sl := range slots {
			if sl.Code != "" {
				if err := program(sl.Number, sl.Code); err != nil {
					return err
				}
			}
			if sl.Sync == sparekey.SyncSynced {
				continue
			}
			sl.Sync, sl.SyncAttempts, sl.SyncError, sl.SyncedAt = sparekey.SyncSynced, 0, "", &now
			if err := tx.UpdateSlot(ctx, sl); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// resync makes every slot of the lock that holds a code, or may still hold
// one, pending.
func resync(ctx context.Context, tx sparekey.SlotStore, lock *sparekey.Lock, now time.Time) error {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Code == "" && sl.Sync == sparekey.SyncSynced {
			continue // empty here and there
		}
		sl.Sync, sl.SyncAttempts, sl.SyncError, sl.NextSyncAt = sparekey.SyncPending, 0, "", now
		if err := tx.UpdateSlot(ctx, sl); err != nil {
			return err
		}
	}
	return nil
}

// RetryPending makes every pending slot of every lock due now: the path to
// the locks (the MQTT broker) is back, so nothing needs to wait out its
// backoff.
func (r *Reconciler) RetryPending(ctx context.Context) error {
	locks, err := r.locks(ctx)
	if err != nil {
		return err
	}
	devices := make([]string, len(locks))
	for i, lock := range locks {
		devices[i] = lock.Device
	}
	return r.RetryLocks(ctx, devices)
}

// RetryLocks makes the pending and failed slots of the named locks due now:
// this instance just took them over from another.
func (r *Reconciler) RetryLocks(ctx context.Context, devices []string) error {
	for _, device := range devices {
		err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
			lock, err := tx.LockByDevice(ctx, device)
			if err != nil {
				return err
			}
			return retryNow(ctx, tx, lock, r.now())
		})
		if err != nil && sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
			return err
		}
	}
	r.Nudge()
	return nil
}

// retryNow makes every pending or failed slot of a lock that just came back
// due now.
func retryNow(ctx context.Context, tx sparekey.SlotStore, lock *sparekey.Lock, now time.Time) error {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		// Failed slots too: a lock or hub that was unreachable may well
		// take them now.
		if (sl.Sync == sparekey.SyncPending || sl.Sync == sparekey.SyncFailed) && sl.NextSyncAt.After(now) {
			sl.NextSyncAt = now
			if err := tx.UpdateSlot(ctx, sl); err != nil {
				return err
			}
		}
	}
	return nil
}
