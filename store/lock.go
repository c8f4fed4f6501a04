package store

import (
	"context"
	"database/sql"

	"sparekey"
)

const lockColumns = `id, unit_id, device, name, adapter, slot_count, code_min, code_max, state, battery, online, last_seen`

func scanLock(row scanner) (*sparekey.Lock, error) {
	var l sparekey.Lock
	var online int
	var lastSeen sql.NullInt64
	if err := row.Scan(&l.ID, &l.UnitID, &l.Device, &l.Name, &l.Adapter, &l.SlotCount, &l.CodeMin, &l.CodeMax,
		&l.State, &l.Battery, &online, &lastSeen); err != nil {
		return nil, err
	}
	l.Online = online != 0
	l.LastSeen = timePtr(lastSeen)
	return &l, nil
}

func (t *tx) CreateLock(ctx context.Context, l *sparekey.Lock) error {
	id, err := t.insert(ctx, "create lock", "lock "+l.Device+" already exists", `
		INSERT INTO locks (unit_id, device, name, adapter, slot_count, code_min, code_max, state, battery, online, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.UnitID, l.Device, l.Name, l.Adapter, l.SlotCount, l.CodeMin, l.CodeMax,
		string(l.State), l.Battery, boolInt(l.Online), nullMicros(l.LastSeen))
	if err != nil {
		return err
	}
	l.ID = id
	return nil
}

// Lock, LockByDevice and SlotsByLock lock the lock's row in a read-write
// transaction on PostgreSQL, until commit. Whoever reads a lock or its slots
// to write them back (apply an event, program a code, issue a backup code)
// so owns that lock, as SQLite's single writer owns the whole database: no
// state update is lost, and two residents are never given one pool code.
// Locks and LocksByUnit take no row locks.

func (t *tx) Lock(ctx context.Context, id int64) (*sparekey.Lock, error) {
	return getOne(ctx, t, "lock", notFound("lock %d not found", id), scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE id = ? `+t.rowLock(), id)
}

func (t *tx) LockByDevice(ctx context.Context, device string) (*sparekey.Lock, error) {
	return getOne(ctx, t, "lock by device", notFound("lock %s not found", device), scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE device = ? `+t.rowLock(), device)
}

func (t *tx) LocksByUnit(ctx context.Context, unitID int64) ([]*sparekey.Lock, error) {
	return getAll(ctx, t, "locks by unit", scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE unit_id = ? ORDER BY device`, unitID)
}

func (t *tx) Locks(ctx context.Context) ([]*sparekey.Lock, error) {
	return getAll(ctx, t, "locks", scanLock, `SELECT `+lockColumns+` FROM locks ORDER BY device`)
}

func (t *tx) UpdateLock(ctx context.Context, l *sparekey.Lock) error {
	return t.update(ctx, "update lock", notFound("lock %d not found", l.ID), "lock "+l.Device+" already exists", `
		UPDATE locks SET unit_id = ?, device = ?, name = ?, adapter = ?, slot_count = ?, code_min = ?, code_max = ?,
			state = ?, battery = ?, online = ?, last_seen = ?
		WHERE id = ?`,
		l.UnitID, l.Device, l.Name, l.Adapter, l.SlotCount, l.CodeMin, l.CodeMax,
		string(l.State), l.Battery, boolInt(l.Online), nullMicros(l.LastSeen), l.ID)
}
