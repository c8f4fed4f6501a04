package access

import (
	"context"
	"fmt"
	"sync"
	"time"

	"sparekey"
	"sparekey/loop"
)

// Reconciler drives every slot from its desired state to what the lock
// confirmed, in the background: it rotates expired backup codes, keeps
// every pool full and programs pending slots, several locks at a time,
// with backoff for locks that do not answer.
type Reconciler struct {
	base
	codes *Codes
	loop  *loop.Loop

	lastPoolCheck time.Time // the loop's goroutine only (RunOnce is not concurrent)
}

func newReconciler(b base, codes *Codes) *Reconciler {
	r := &Reconciler{base: b, codes: codes}
	r.loop = loop.New(b.cfg.SyncInterval, func(ctx context.Context) (bool, error) {
		n, err := r.RunOnce(ctx)
		return n == syncBatch, err
	}, func(err error) { r.log.Error("reconcile pass failed", "err", err) })
	return r
}

// Start runs the reconciler until ctx ends or Stop is called.
func (r *Reconciler) Start(ctx context.Context) { r.loop.Start(ctx) }

// Stop ends the reconciler and waits for it.
func (r *Reconciler) Stop() { r.loop.Stop() }

// Nudge wakes the reconciler now, e.g. after codes changed.
func (r *Reconciler) Nudge() { r.loop.Wake() }

// RunOnce makes one reconcile pass and returns how many slots it programmed
// or cleared on locks.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	now := r.now()
	if err := r.rotateExpired(ctx, now); err != nil {
		return 0, err
	}
	if r.lastPoolCheck.IsZero() || now.Sub(r.lastPoolCheck) >= poolCheckInterval {
		if err := r.fillPools(ctx); err != nil {
			return 0, err
		}
		r.lastPoolCheck = now
	}
	var todo []*sparekey.Slot
	err := r.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		todo, err = tx.SlotsToSync(ctx, now, syncBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	return r.syncAll(ctx, todo)
}

// syncAll programs the slots, several locks at a time (Config.Parallel)
// and one command at a time per lock, in the order given: a lock handles
// one radio command at a time, while the mesh carries many locks' at once.
func (r *Reconciler) syncAll(ctx context.Context, todo []*sparekey.Slot) (int, error) {
	var order []int64
	byLock := map[int64][]*sparekey.Slot{}
	for _, sl := range todo {
		if _, ok := byLock[sl.LockID]; !ok {
			order = append(order, sl.LockID)
		}
		byLock[sl.LockID] = append(byLock[sl.LockID], sl)
	}
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, r.cfg.Parallel)
	)
	for _, id := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(slots []*sparekey.Slot) {
			defer func() { <-sem; wg.Done() }()
			var unreachable error
			for _, sl := range slots {
				if ctx.Err() != nil {
					return
				}
				var ok bool
				var err error
				if unreachable != nil {
					// A lock that did not answer is not asked again in this
					// pass: its other slots wait as long as the first one,
					// so one silent lock cannot hold the pass for minutes.
					err = r.recordUnreachable(ctx, sl, unreachable)
				} else {
					ok, unreachable, err = r.syncSlot(ctx, sl)
				}
				mu.Lock()
				if ok {
					done++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(byLock[id])
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return done, firstErr
}

// rotateExpired replaces backup codes issued more than BackupCodeTTL ago,
// one short transaction per lock this instance owns: the lock's row is
// taken first and its slots read again under it, so a rotation made
// meanwhile (a keypad use) is not overwritten, and locks are always taken
// one at a time.
func (r *Reconciler) rotateExpired(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-sparekey.BackupCodeTTL)
	var expired []*sparekey.Slot
	err := r.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		expired, err = tx.IssuedBackupSlotsBefore(ctx, cutoff)
		return err
	})
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, e := range expired {
		if seen[e.LockID] {
			continue
		}
		seen[e.LockID] = true
		err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
			lock, err := tx.Lock(ctx, e.LockID)
			if err != nil || !r.owns(lock.Device) {
				return err
			}
			slots, err := tx.SlotsByLock(ctx, lock.ID)
			if err != nil {
				return err
			}
			for _, sl := range slots {
				if sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued && sl.IssuedAt != nil && sl.IssuedAt.Before(cutoff) {
					if err := r.codes.rotate(ctx, tx, lock, sl, "expired"); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// poolCheckInterval is how often the reconciler makes sure every lock's
// backup pool is full. Pools are filled when a lock is created and keep
// their size through rotations, so this is a safety net, not the path.
const poolCheckInterval = 30 * time.Second

// fillPools tops up every lock's pool, one short transaction per lock so the
// writer is never held for the whole fleet. A lock that fails is logged and
// skipped: it must not stop the others.
func (r *Reconciler) fillPools(ctx context.Context) error {
	locks, err := r.locks(ctx)
	if err != nil {
		return err
	}
	for _, lock := range locks {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !r.owns(lock.Device) {
			continue
		}
		err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error { return r.codes.ProvisionLock(ctx, tx, lock) })
		if err != nil {
			r.log.Error("fill backup pool", "lock", lock.Device, "err", err)
		}
	}
	return nil
}

// syncBatch is how many slots one reconcile pass programs at most.
const syncBatch = 100

// syncSlot sends one slot's desired state to its lock, outside any
// transaction, then records the outcome if the slot did not change
// meanwhile. It reports whether the lock confirmed it, and the error of a
// lock that could not be reached or did not answer.
func (r *Reconciler) syncSlot(ctx context.Context, want *sparekey.Slot) (ok bool, unreachable error, err error) {
	var lock *sparekey.Lock
	err = r.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		lock, err = tx.Lock(ctx, want.LockID)
		return err
	})
	if err != nil {
		return false, nil, err
	}
	if !r.owns(lock.Device) {
		return false, nil, nil // its owner programs it
	}
	var sendErr error
	if want.Code == "" {
		sendErr = r.cfg.Driver.ClearPIN(ctx, lock.Device, want.Number)
	} else {
		sendErr = r.cfg.Driver.SetPIN(ctx, lock.Device, want.Number, want.Code)
	}
	if ctx.Err() != nil {
		return false, nil, ctx.Err()
	}
	if code := sparekey.ErrorCode(sendErr); code == sparekey.ELOCKOFFLINE || code == sparekey.ELOCKTIMEOUT {
		unreachable = sendErr
	}
	return sendErr == nil, unreachable, r.record(ctx, lock, want, sendErr)
}

// recordUnreachable records, without asking the lock again, that it could
// not be reached for the slot.
func (r *Reconciler) recordUnreachable(ctx context.Context, want *sparekey.Slot, sendErr error) error {
	var lock *sparekey.Lock
	err := r.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		lock, err = tx.Lock(ctx, want.LockID)
		return err
	})
	if err != nil {
		return err
	}
	return r.record(ctx, lock, want, sendErr)
}

// record writes what the lock said to a slot's programming, unless the
// slot changed while the command was on its way.
func (r *Reconciler) record(ctx context.Context, lock *sparekey.Lock, want *sparekey.Slot, sendErr error) error {
	now := r.now()
	return r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		slots, err := tx.SlotsByLock(ctx, lock.ID)
		if err != nil {
			return err
		}
		var sl *sparekey.Slot
		for _, x := range slots {
			if x.ID == want.ID {
				sl = x
			}
		}
		if sl == nil || sl.Code != want.Code || sl.Sync != want.Sync || !sl.NextSyncAt.Equal(want.NextSyncAt) {
			// Changed while we talked to the lock (a new code, or made due
			// again by a reset or a retry): the next pass takes it.
			return nil
		}
		if sendErr == nil {
			sl.Sync = sparekey.SyncSynced
			sl.SyncAttempts = 0
			sl.SyncError = ""
			sl.SyncedAt = &now
			if err := tx.UpdateSlot(ctx, sl); err != nil {
				return err
			}
			return markOnline(ctx, tx, lock.ID, now)
		}
		offline := sparekey.ErrorCode(sendErr) == sparekey.ELOCKOFFLINE
		if !offline {
			sl.SyncAttempts++
		}
		sl.SyncError = sparekey.ErrorMessage(sendErr)
		wait := r.backoff(sl.SyncAttempts)
		if offline {
			wait = offlineWait(lock, now)
		}
		sl.NextSyncAt = now.Add(wait)
		if sl.Sync == sparekey.SyncFailed {
			sl.NextSyncAt = now.Add(failedRetry) // still failing: try again later, quietly
			return tx.UpdateSlot(ctx, sl)
		}
		if sl.SyncAttempts >= r.cfg.MaxSyncAttempts {
			sl.Sync = sparekey.SyncFailed
			sl.NextSyncAt = now.Add(failedRetry)
			r.log.Error("slot sync failed; flagged for staff", "lock", lock.Device, "slot", sl.Number, "attempts", sl.SyncAttempts, "err", sl.SyncError)
			if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: "system", Action: "slot.sync_failed",
				Subject: "lock:" + lock.Device, Detail: map[string]string{"slot": fmt.Sprint(sl.Number), "error": sl.SyncError}}); err != nil {
				return err
			}
		}
		return tx.UpdateSlot(ctx, sl)
	})
}

// markOnline records that a lock just answered: it is online, whatever
// availability report Sparekey missed (a lock imported after its hub had
// announced it, say).
func markOnline(ctx context.Context, tx sparekey.LockStore, lockID int64, now time.Time) error {
	l, err := tx.Lock(ctx, lockID)
	if err != nil {
		return err
	}
	if l.Online && l.LastSeen != nil && !l.LastSeen.Before(now) {
		return nil
	}
	l.Online, l.LastSeen = true, &now
	return tx.UpdateLock(ctx, l)
}

// failedRetry is how often a slot flagged failed is tried again: a lock
// that is fixed (or a bug that is) heals without staff having to act.
const failedRetry = time.Hour

// backoff is the wait before the next try of a slot on a reachable lock:
// doubling from 2 s, capped at BackoffMax.
func (r *Reconciler) backoff(attempts int) time.Duration {
	return min(2*time.Second<<min(attempts, 20), r.cfg.BackoffMax)
}

// offlineWait is the wait before trying an offline lock again: as long as
// it has been gone, from 2 s up to one minute. Offline tries do not count
// toward flagging a slot, and a lock that reports back is retried at once.
func offlineWait(lock *sparekey.Lock, now time.Time) time.Duration {
	gone := time.Minute
	if lock.LastSeen != nil {
		gone = now.Sub(*lock.LastSeen)
	}
	return min(max(gone, 2*time.Second), time.Minute)
}
