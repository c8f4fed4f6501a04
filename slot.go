package sparekey

import (
	"context"
	"time"
)

// SlotPurpose says what a code slot on a lock is for.
type SlotPurpose string

const (
	SlotResident    SlotPurpose = "resident"
	SlotGuest       SlotPurpose = "guest"
	SlotBackup      SlotPurpose = "backup"
	SlotMaintenance SlotPurpose = "maintenance"
)

// SyncStatus says whether a slot's desired state has reached the lock.
type SyncStatus string

const (
	SyncPending SyncStatus = "pending" // desired differs from what the lock confirmed
	SyncSynced  SyncStatus = "synced"  // the lock confirmed the desired state
	SyncFailed  SyncStatus = "failed"  // failed repeatedly: flagged for staff, retried hourly
)

// Slot is one numbered user slot on a lock. Code is the desired code in
// plain text in memory; the store seals it at rest. An empty Code means the
// slot should be empty on the lock.
type Slot struct {
	ID         int64
	LockID     int64
	Number     int // 0-based, as Zigbee2MQTT numbers them
	Purpose    SlotPurpose
	ResidentID int64 // owner for resident slots, 0 otherwise
	Code       string

	Sync         SyncStatus
	SyncAttempts int
	NextSyncAt   time.Time
	SyncError    string
	SyncedAt     *time.Time

	// Backup pool fields, meaningful when Purpose is SlotBackup.
	Backup   BackupState
	IssuedTo int64 // resident id while issued; after a rotation, the last holder
	IssuedAt *time.Time
	UsedAt   *time.Time
}

// HeldBy reports whether the slot holds a backup code issued to the
// resident that is still theirs at now: not used, not rotated, and issued
// less than BackupCodeTTL ago.
func (s *Slot) HeldBy(residentID int64, now time.Time) bool {
	return s.Purpose == SlotBackup && s.Backup == BackupIssued && s.IssuedTo == residentID &&
		s.IssuedAt != nil && now.Before(s.IssuedAt.Add(BackupCodeTTL)) && s.Code != ""
}

// Usable reports whether the lock has confirmed the slot's current code.
// A code is never reported usable before the lock confirmed it.
func (s *Slot) Usable() bool { return s.Code != "" && s.Sync == SyncSynced }

// SlotStore keeps the code slots of locks.
type SlotStore interface {
	CreateSlot(ctx context.Context, s *Slot) error
	SlotsByLock(ctx context.Context, lockID int64) ([]*Slot, error)
	UpdateSlot(ctx context.Context, s *Slot) error
	// SlotsToSync returns up to limit pending or failed slots whose
	// NextSyncAt <= now, oldest first.
	SlotsToSync(ctx context.Context, now time.Time, limit int) ([]*Slot, error)
	// IssuedBackupSlotsBefore returns backup slots issued before t and not used.
	IssuedBackupSlotsBefore(ctx context.Context, t time.Time) ([]*Slot, error)
}
