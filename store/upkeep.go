package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"sparekey"
)

// Jams, work orders, their timelines and watchers.
//
// OpenJam, WorkOrder and ActiveWorkOrder lock the row they return in a
// read-write transaction on PostgreSQL, until commit, as Lock does: whoever
// reads a jam or work order to update it owns it meanwhile. A lock has at
// most one work order that is not resolved; a unique partial index holds
// that, and breaking it is ECONFLICT.

const jamColumns = `id, lock_id, started_at, cause, attempts, cleared_at, cleared_by`

func scanJam(row scanner) (*sparekey.Jam, error) {
	var j sparekey.Jam
	var startedAt int64
	var clearedAt sql.NullInt64
	if err := row.Scan(&j.ID, &j.LockID, &startedAt, &j.Cause, &j.Attempts, &clearedAt, &j.ClearedBy); err != nil {
		return nil, err
	}
	j.StartedAt = fromMicros(startedAt)
	j.ClearedAt = timePtr(clearedAt)
	return &j, nil
}

func (t *tx) CreateJam(ctx context.Context, j *sparekey.Jam) error {
	id, err := t.insert(ctx, "create jam", "", `
		INSERT INTO jams (lock_id, started_at, cause, attempts, cleared_at, cleared_by)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		j.LockID, micros(j.StartedAt), j.Cause, j.Attempts, nullMicros(j.ClearedAt), j.ClearedBy)
	if err != nil {
		return err
	}
	j.ID = id
	return nil
}

func (t *tx) UpdateJam(ctx context.Context, j *sparekey.Jam) error {
	return t.update(ctx, "update jam", notFound("jam %d not found", j.ID), "", `
		UPDATE jams SET lock_id = ?, started_at = ?, cause = ?, attempts = ?, cleared_at = ?, cleared_by = ?
		WHERE id = ?`,
		j.LockID, micros(j.StartedAt), j.Cause, j.Attempts, nullMicros(j.ClearedAt), j.ClearedBy, j.ID)
}

// OpenJam returns the newest uncleared jam of the lock, should there be
// several.
func (t *tx) OpenJam(ctx context.Context, lockID int64) (*sparekey.Jam, error) {
	return getOne(ctx, t, "open jam", notFound("lock %d has no open jam", lockID), scanJam, `
		SELECT `+jamColumns+` FROM jams WHERE lock_id = ? AND cleared_at IS NULL
		ORDER BY started_at DESC, id DESC LIMIT 1 `+t.rowLock(), lockID)
}

func (t *tx) JamsSince(ctx context.Context, lockID int64, since time.Time, limit int) ([]*sparekey.Jam, error) {
	return getAll(ctx, t, "jams since", scanJam, `
		SELECT `+jamColumns+` FROM jams WHERE lock_id = ? AND started_at > ?
		ORDER BY started_at DESC, id DESC LIMIT ?`, lockID, micros(since), limitOrAll(limit))
}

func (t *tx) UnclearedJams(ctx context.Context, before time.Time) ([]*sparekey.Jam, error) {
	return getAll(ctx, t, "uncleared jams", scanJam, `
		SELECT `+jamColumns+` FROM jams WHERE cleared_at IS NULL AND started_at <= ?
		ORDER BY started_at, id`, micros(before))
}

const workOrderColumns = `id, property_id, unit_id, lock_id, kind, status, source, summary, jam_count, assignee_id,
	resolution, created_at, updated_at, started_at, resolved_at, healthy_ops, last_healthy_at`

func scanWorkOrder(row scanner) (*sparekey.WorkOrder, error) {
	var w sparekey.WorkOrder
	var assignee, startedAt, resolvedAt, lastHealthyAt sql.NullInt64
	var createdAt, updatedAt int64
	if err := row.Scan(&w.ID, &w.PropertyID, &w.UnitID, &w.LockID, &w.Kind, &w.Status, &w.Source, &w.Summary,
		&w.JamCount, &assignee, &w.Resolution, &createdAt, &updatedAt, &startedAt, &resolvedAt,
		&w.HealthyOps, &lastHealthyAt); err != nil {
		return nil, err
	}
	w.AssigneeID = assignee.Int64
	w.CreatedAt = fromMicros(createdAt)
	w.UpdatedAt = fromMicros(updatedAt)
	w.StartedAt = timePtr(startedAt)
	w.ResolvedAt = timePtr(resolvedAt)
	w.LastHealthyAt = timePtr(lastHealthyAt)
	return &w, nil
}

// conflictOpenWorkOrder is the message of the one-unresolved-per-lock rule.
const conflictOpenWorkOrder = "lock already has an open work order"

func (t *tx) CreateWorkOrder(ctx context.Context, w *sparekey.WorkOrder) error {
	id, err := t.insert(ctx, "create work order", conflictOpenWorkOrder, `
		INSERT INTO work_orders (property_id, unit_id, lock_id, kind, status, source, summary, jam_count, assignee_id,
			resolution, created_at, updated_at, started_at, resolved_at, healthy_ops, last_healthy_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.PropertyID, w.UnitID, w.LockID, w.Kind, string(w.Status), w.Source, w.Summary, w.JamCount, nullID(w.AssigneeID),
		w.Resolution, micros(w.CreatedAt), micros(w.UpdatedAt), nullMicros(w.StartedAt), nullMicros(w.ResolvedAt),
		w.HealthyOps, nullMicros(w.LastHealthyAt))
	if err != nil {
		return err
	}
	w.ID = id
	return nil
}

func (t *tx) WorkOrder(ctx context.Context, id int64) (*sparekey.WorkOrder, error) {
	return getOne(ctx, t, "work order", notFound("work order %d not found", id), scanWorkOrder,
		`SELECT `+workOrderColumns+` FROM work_orders WHERE id = ? `+t.rowLock(), id)
}

func (t *tx) ActiveWorkOrder(ctx context.Context, lockID int64) (*sparekey.WorkOrder, error) {
	return getOne(ctx, t, "active work order", notFound("lock %d has no open work order", lockID), scanWorkOrder, `
		SELECT `+workOrderColumns+` FROM work_orders WHERE lock_id = ? AND status <> 'resolved' `+t.rowLock(), lockID)
}

func (t *tx) WorkOrders(ctx context.Context, f sparekey.WorkOrderFilter) ([]*sparekey.WorkOrder, error) {
	var where []string
	var args []any
	if f.PropertyIDs != nil {
		if len(f.PropertyIDs) == 0 {
			return []*sparekey.WorkOrder{}, nil
		}
		where = append(where, "property_id IN ("+placeholders(len(f.PropertyIDs))+")")
		for _, id := range f.PropertyIDs {
			args = append(args, id)
		}
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.LockID != 0 {
		where = append(where, "lock_id = ?")
		args = append(args, f.LockID)
	}
	query := `SELECT ` + workOrderColumns + ` FROM work_orders`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limitOrAll(f.Limit))
	return getAll(ctx, t, "work orders", scanWorkOrder, query, args...)
}

// UpdateWorkOrder writes every field but ID and CreatedAt.
func (t *tx) UpdateWorkOrder(ctx context.Context, w *sparekey.WorkOrder) error {
	return t.update(ctx, "update work order", notFound("work order %d not found", w.ID), conflictOpenWorkOrder, `
		UPDATE work_orders SET property_id = ?, unit_id = ?, lock_id = ?, kind = ?, status = ?, source = ?, summary = ?,
			jam_count = ?, assignee_id = ?, resolution = ?, updated_at = ?, started_at = ?, resolved_at = ?,
			healthy_ops = ?, last_healthy_at = ?
		WHERE id = ?`,
		w.PropertyID, w.UnitID, w.LockID, w.Kind, string(w.Status), w.Source, w.Summary,
		w.JamCount, nullID(w.AssigneeID), w.Resolution, micros(w.UpdatedAt), nullMicros(w.StartedAt), nullMicros(w.ResolvedAt),
		w.HealthyOps, nullMicros(w.LastHealthyAt), w.ID)
}

const workOrderNoteColumns = `id, work_order_id, occurred_at, author, kind, text`

func scanWorkOrderNote(row scanner) (*sparekey.WorkOrderNote, error) {
	var n sparekey.WorkOrderNote
	var at int64
	if err := row.Scan(&n.ID, &n.WorkOrderID, &at, &n.Author, &n.Kind, &n.Text); err != nil {
		return nil, err
	}
	n.At = fromMicros(at)
	return &n, nil
}

func (t *tx) AddWorkOrderNote(ctx context.Context, n *sparekey.WorkOrderNote) error {
	id, err := t.insert(ctx, "add work order note", "", `
		INSERT INTO work_order_notes (work_order_id, occurred_at, author, kind, text)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		n.WorkOrderID, micros(n.At), n.Author, n.Kind, n.Text)
	if err != nil {
		return err
	}
	n.ID = id
	return nil
}

func (t *tx) WorkOrderNotes(ctx context.Context, workOrderID int64) ([]*sparekey.WorkOrderNote, error) {
	return getAll(ctx, t, "work order notes", scanWorkOrderNote, `
		SELECT `+workOrderNoteColumns+` FROM work_order_notes WHERE work_order_id = ?
		ORDER BY occurred_at, id`, workOrderID)
}

func (t *tx) AddWorkOrderWatcher(ctx context.Context, workOrderID int64, w sparekey.WorkOrderWatcher) error {
	if _, err := t.exec(ctx, `
		INSERT INTO work_order_watchers (work_order_id, resident_id, language) VALUES (?, ?, ?)
		ON CONFLICT (work_order_id, resident_id) DO UPDATE SET language = excluded.language`,
		workOrderID, w.ResidentID, w.Language); err != nil {
		return fmt.Errorf("add work order watcher: %w", err)
	}
	return nil
}

// WorkOrderWatchers returns the watching residents in ascending id order.
func (t *tx) WorkOrderWatchers(ctx context.Context, workOrderID int64) ([]sparekey.WorkOrderWatcher, error) {
	watchers, err := getAll(ctx, t, "work order watchers", func(row scanner) (*sparekey.WorkOrderWatcher, error) {
		var w sparekey.WorkOrderWatcher
		return &w, row.Scan(&w.ResidentID, &w.Language)
	}, `SELECT resident_id, language FROM work_order_watchers WHERE work_order_id = ? ORDER BY resident_id`, workOrderID)
	if err != nil {
		return nil, err
	}
	out := make([]sparekey.WorkOrderWatcher, len(watchers))
	for i, w := range watchers {
		out[i] = *w
	}
	return out, nil
}

// getIDs runs a query of one id column; no row is an empty slice.
func getIDs(ctx context.Context, t *tx, op, query string, args ...any) ([]int64, error) {
	rows, err := getAll(ctx, t, op, func(row scanner) (*int64, error) {
		var id int64
		return &id, row.Scan(&id)
	}, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(rows))
	for i, id := range rows {
		out[i] = *id
	}
	return out, nil
}
