package access

import (
	"context"
	"fmt"
	"time"

	"sparekey"
)

// Codes gives codes out: residents' access codes and the pool of backup
// codes on every lock, programmed in advance so that one can be issued at
// once, used up at its first use and replaced. New codes are pending until
// the Reconciler has them confirmed by the lock.
type Codes struct {
	base
	wake func() // the reconciler's Nudge, after codes changed
}

// ProvisionLock fills the lock's backup pool up to PoolSize with fresh
// random codes. The new slots are pending until the lock confirms them.
func (c *Codes) ProvisionLock(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock) error {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	pool := 0
	for _, sl := range slots {
		if sl.Purpose == sparekey.SlotBackup {
			pool++
		}
	}
	for ; pool < c.cfg.PoolSize; pool++ {
		code, err := NewCode(backupLength(lock), takenCodes(slots))
		if err != nil {
			return err
		}
		sl, err := c.claimSlot(ctx, tx, lock, slots, sparekey.SlotBackup, code)
		if sparekey.ErrorCode(err) == sparekey.ECONFLICT {
			// A full lock keeps the pool it has; staff see the shortfall
			// in the lock's health. It must not stop other locks' work.
			c.log.Warn("lock has no free slot to fill its backup pool", "lock", lock.Device, "pool", pool, "want", c.cfg.PoolSize)
			return nil
		} else if err != nil {
			return err
		}
		sl.Backup = sparekey.BackupAvailable
		if err := tx.UpdateSlot(ctx, sl); err != nil {
			return err
		}
		slots = append(slots, sl)
	}
	return nil
}

// AssignResidentCode gives the resident an access code on the lock: code
// when it is set (it must follow the lock's rules and be free on the lock),
// a fresh random one otherwise. It returns the slot, pending until the lock
// confirms it.
func (c *Codes) AssignResidentCode(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, r *sparekey.Resident, code string) (*sparekey.Slot, error) {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return nil, err
	}
	taken := takenCodes(slots)
	shortest, longest := codeRange(lock)
	if code == "" {
		if code, err = NewCode(shortest, taken); err != nil {
			return nil, err
		}
	} else if err := ValidCode(code, shortest, longest); err != nil {
		return nil, sparekey.Errorf(sparekey.EINVALID, "access code for %s: %v", r.Name, err)
	} else if taken[code] {
		return nil, sparekey.Errorf(sparekey.ECONFLICT, "access code for %s is already in use on %s", r.Name, lock.Device)
	}
	sl, err := c.claimSlot(ctx, tx, lock, slots, sparekey.SlotResident, code)
	if err != nil {
		return nil, err
	}
	sl.ResidentID = r.ID
	return sl, tx.UpdateSlot(ctx, sl)
}

// claimSlot takes the lowest free slot number (no row yet, or a row whose
// code was cleared) for a new code.
func (c *Codes) claimSlot(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, slots []*sparekey.Slot, purpose sparekey.SlotPurpose, code string) (*sparekey.Slot, error) {
	byNumber := map[int]*sparekey.Slot{}
	for _, sl := range slots {
		byNumber[sl.Number] = sl
	}
	now := c.now()
	for n := 0; n < lock.SlotCount; n++ {
		sl, ok := byNumber[n]
		// A slot whose old code is still being cleared is not free yet: a
		// new code there could fail and leave the old one on the lock.
		if ok && (sl.Code != "" || sl.Purpose == sparekey.SlotBackup || sl.Sync != sparekey.SyncSynced) {
			continue
		}
		if !ok {
			sl = &sparekey.Slot{LockID: lock.ID, Number: n}
		}
		*sl = sparekey.Slot{ID: sl.ID, LockID: lock.ID, Number: n, Purpose: purpose, Code: code,
			Sync: sparekey.SyncPending, NextSyncAt: now}
		if !ok {
			if err := tx.CreateSlot(ctx, sl); err != nil {
				return nil, err
			}
		}
		return sl, nil
	}
	return nil, sparekey.Errorf(sparekey.ECONFLICT, "lock %s has no free code slot", lock.Device)
}

// IssueBackupCodes gives the resident one backup code on every lock of their
// unit (see IssueBackupCode); locks with no code to give are skipped.
func (c *Codes) IssueBackupCodes(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident) ([]*sparekey.Slot, error) {
	locks, err := tx.LocksByUnit(ctx, r.UnitID)
	if err != nil {
		return nil, err
	}
	var issued []*sparekey.Slot
	for _, lock := range locks {
		sl, err := c.IssueBackupCode(ctx, tx, r, lock)
		if err != nil {
			return nil, err
		}
		if sl != nil {
			issued = append(issued, sl)
		}
	}
	return issued, nil
}

// IssueBackupCode gives the resident a backup code on the lock. A code they
// hold already is given again if it outlives a new link; otherwise the
// lowest code of the pool that the lock confirmed is issued, so it works
// even if the lock is offline now. With no confirmed code left in the pool
// it returns nil and logs it.
func (c *Codes) IssueBackupCode(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, lock *sparekey.Lock) (*sparekey.Slot, error) {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var free *sparekey.Slot
	for _, sl := range slots {
		// Give the same code again only if it outlives the new link, so a
		// revealed code never stops working while its link is live. If the
		// lock lost it since (a reset), the link says it is being put back.
		if sl.HeldBy(r.ID, now.Add(sparekey.BackupLinkTTL+reissueMargin)) {
			return sl, nil
		}
		if free == nil && sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupAvailable && sl.Usable() {
			free = sl
		}
	}
	if free == nil {
		c.log.Warn("backup pool empty: no confirmed backup code to issue", "lock", lock.Device, "resident", r.ID)
		return nil, nil
	}
	free.Backup = sparekey.BackupIssued
	free.IssuedTo = r.ID
	free.IssuedAt = &now
	free.UsedAt = nil // a use before this issue was someone else's
	if err := tx.UpdateSlot(ctx, free); err != nil {
		return nil, err
	}
	err = tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: "system", Action: "backup_code.issued",
		Subject: fmt.Sprintf("resident:%d", r.ID), Detail: map[string]string{"lock": lock.Device, "slot": fmt.Sprint(free.Number)}})
	return free, err
}

// reissueMargin is how much longer than a link a re-given code must live.
const reissueMargin = 5 * time.Minute

// IssuedTo reports whether the resident holds the slot's backup code at now
// (Slot.HeldBy) and the lock has confirmed it as it stands.
func IssuedTo(sl *sparekey.Slot, residentID int64, now time.Time) bool {
	return sl.HeldBy(residentID, now) && sl.Usable()
}

// rotate replaces a used or expired backup code with a fresh one. The old
// code stays on the lock only until the reconciler programs the new one.
func (c *Codes) rotate(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, sl *sparekey.Slot, reason string) error {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	code, err := NewCode(backupLength(lock), takenCodes(slots))
	if err != nil {
		return err
	}
	now := c.now()
	prev := sl.IssuedTo
	sl.Code = code
	sl.Backup = sparekey.BackupAvailable
	sl.IssuedAt = nil // IssuedTo stays: the last holder, until issued again
	sl.Sync = sparekey.SyncPending
	sl.SyncAttempts = 0
	sl.SyncError = ""
	sl.NextSyncAt = now
	if err := tx.UpdateSlot(ctx, sl); err != nil {
		return err
	}
	detail := map[string]string{"lock": lock.Device, "slot": fmt.Sprint(sl.Number), "reason": reason}
	if prev != 0 {
		detail["resident"] = fmt.Sprint(prev)
	}
	return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: "system", Action: "backup_code.rotated",
		Subject: "lock:" + lock.Device, Detail: detail})
}

// codeRange is the code lengths Sparekey uses on a lock: 6 to 8 digits,
// narrowed to what the keypad takes.
func codeRange(lock *sparekey.Lock) (shortest, longest int) {
	shortest, longest = max(6, lock.CodeMin), min(8, lock.CodeMax)
	if longest < shortest { // a keypad outside 6–8: follow the keypad
		return lock.CodeMin, lock.CodeMax
	}
	return shortest, longest
}

// backupLength is the length of backup codes: the longest Sparekey uses on
// the lock (8 digits on most), harder to guess than residents' 6.
func backupLength(lock *sparekey.Lock) int {
	_, longest := codeRange(lock)
	return longest
}

func takenCodes(slots []*sparekey.Slot) map[string]bool {
	taken := map[string]bool{}
	for _, sl := range slots {
		if sl.Code != "" {
			taken[sl.Code] = true
		}
	}
	return taken
}

// ObserveLockEvent uses up a backup code at its first use at the keypad:
// the code is rotated, and the old one stays on the lock only until the
// reconciler programs the new one. A pool code that nobody was given is
// rotated too (guessed or leaked), and leaves a trace in the log.
func (c *Codes) ObserveLockEvent(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, _ sparekey.LockState, ev sparekey.DeviceEvent) error {
	if ev.Kind != sparekey.EventKeypadUnlock {
		return nil
	}
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Number != ev.Slot {
			continue
		}
		switch backupUse(sl, ev) {
		case useByHolder:
			now := c.now()
			sl.UsedAt = &now
			return c.rotate(ctx, tx, lock, sl, "used")
		case useUnissued:
			c.log.Warn("unissued backup code used at keypad", "lock", lock.Device, "slot", sl.Number)
			return c.rotate(ctx, tx, lock, sl, "used_unissued")
		}
		return nil
	}
	return nil
}

// keypadUse is what a code's use at the keypad means for the backup pool.
type keypadUse int

const (
	notBackup      keypadUse = iota // not a backup code
	useBeforeIssue                  // a report older than the code's issue: not its holder's use
	useAgain                        // used again before its replacement reached the lock
	useByHolder                     // its holder's first use: the code is used up
	useUnissued                     // a pool code nobody was given: guessed or leaked
)

// backupUse tells what the keypad use of slot sl's code, reported by ev,
// means for the backup pool.
func backupUse(sl *sparekey.Slot, ev sparekey.DeviceEvent) keypadUse {
	switch {
	case sl.Purpose != sparekey.SlotBackup:
		return notBackup
	case sl.Backup == sparekey.BackupIssued && sl.IssuedAt != nil && ev.At.Before(*sl.IssuedAt):
		return useBeforeIssue
	case sl.Backup == sparekey.BackupAvailable && sl.UsedAt != nil && sl.Sync == sparekey.SyncPending:
		return useAgain
	case sl.Backup == sparekey.BackupIssued:
		return useByHolder
	default:
		return useUnissued
	}
}
