package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sparekey"
)

// The code is kept only sealed (code_sealed); NULL means an empty slot.
const slotColumns = `id, lock_id, number, purpose, resident_id, code_sealed,
	sync, sync_attempts, next_sync_at, sync_error, synced_at,
	backup, issued_to, issued_at, used_at`

func (t *tx) scanSlot(row scanner) (*sparekey.Slot, error) {
	var s sparekey.Slot
	var residentID, issuedTo, syncedAt, issuedAt, usedAt sql.NullInt64
	var sealed []byte
	var nextSyncAt int64
	if err := row.Scan(&s.ID, &s.LockID, &s.Number, &s.Purpose, &residentID, &sealed,
		&s.Sync, &s.SyncAttempts, &nextSyncAt, &s.SyncError, &syncedAt,
		&s.Backup, &issuedTo, &issuedAt, &usedAt); err != nil {
		return nil, err
	}
	code, err := t.open(sealed)
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", s.ID, err)
	}
	s.Code = code
	s.ResidentID = residentID.Int64
	s.NextSyncAt = fromMicros(nextSyncAt)
	s.SyncedAt = timePtr(syncedAt)
	s.IssuedTo = issuedTo.Int64
	s.IssuedAt = timePtr(issuedAt)
	s.UsedAt = timePtr(usedAt)
	return &s, nil
}

func (t *tx) CreateSlot(ctx context.Context, s *sparekey.Slot) error {
	sealed, err := t.seal(s.Code)
	if err != nil {
		return fmt.Errorf("create slot: %w", err)
	}
	id, err := t.insert(ctx, "create slot", fmt.Sprintf("slot %d of lock %d already exists", s.Number, s.LockID), `
		INSERT INTO slots (lock_id, number, purpose, resident_id, code_sealed,
			sync, sync_attempts, next_sync_at, sync_error, synced_at,
			backup, issued_to, issued_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.LockID, s.Number, string(s.Purpose), nullID(s.ResidentID), sealed,
		string(s.Sync), s.SyncAttempts, micros(s.NextSyncAt), s.SyncError, nullMicros(s.SyncedAt),
		string(s.Backup), nullID(s.IssuedTo), nullMicros(s.IssuedAt), nullMicros(s.UsedAt))
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// SlotsByLock locks the lock's row first (see Lock): locking the slots
// themselves would not cover a slot being created.
func (t *tx) SlotsByLock(ctx context.Context, lockID int64) ([]*sparekey.Slot, error) {
	if lock := t.rowLock(); lock != "" {
		var id int64
		err := t.queryRow(ctx, `SELECT id FROM locks WHERE id = ? `+lock, lockID).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // a missing lock has no slots
			return nil, fmt.Errorf("slots by lock: %w", err)
		}
	}
	return getAll(ctx, t, "slots by lock", t.scanSlot,
		`SELECT `+slotColumns+` FROM slots WHERE lock_id = ? ORDER BY number`, lockID)
}

// UpdateSlot writes everything but the slot's lock and number, which name it.
func (t *tx) UpdateSlot(ctx context.Context, s *sparekey.Slot) error {
	sealed, err := t.seal(s.Code)
	if err != nil {
		return fmt.Errorf("update slot: %w", err)
	}
	return t.update(ctx, "update slot", notFound("slot %d not found", s.ID), "", `
		UPDATE slots SET purpose = ?, resident_id = ?, code_sealed = ?,
			sync = ?, sync_attempts = ?, next_sync_at = ?, sync_error = ?, synced_at = ?,
			backup = ?, issued_to = ?, issued_at = ?, used_at = ?
		WHERE id = ?`,
		string(s.Purpose), nullID(s.ResidentID), sealed,
		string(s.Sync), s.SyncAttempts, micros(s.NextSyncAt), s.SyncError, nullMicros(s.SyncedAt),
		string(s.Backup), nullID(s.IssuedTo), nullMicros(s.IssuedAt), nullMicros(s.UsedAt), s.ID)
}

func (t *tx) SlotsToSync(ctx context.Context, now time.Time, limit int) ([]*sparekey.Slot, error) {
	return getAll(ctx, t, "slots to sync", t.scanSlot, `
		SELECT `+slotColumns+` FROM slots
		WHERE sync IN (?, ?) AND next_sync_at <= ?
		ORDER BY next_sync_at, id LIMIT ?`,
		string(sparekey.SyncPending), string(sparekey.SyncFailed), micros(now), limitOrAll(limit))
}

func (t *tx) IssuedBackupSlotsBefore(ctx context.Context, before time.Time) ([]*sparekey.Slot, error) {
	return getAll(ctx, t, "issued backup slots", t.scanSlot, `
		SELECT `+slotColumns+` FROM slots
		WHERE purpose = ? AND backup = ? AND issued_at < ?
		ORDER BY issued_at, id`,
		string(sparekey.SlotBackup), string(sparekey.BackupIssued), micros(before))
}
