package sparekey

import (
	"context"
	"time"
)

// WorkOrderStatus is a work order's life cycle.
type WorkOrderStatus string

const (
	WorkOrderOpen       WorkOrderStatus = "open"
	WorkOrderInProgress WorkOrderStatus = "in_progress"
	WorkOrderResolved   WorkOrderStatus = "resolved"
)

// Valid reports whether s is one of the three statuses.
func (s WorkOrderStatus) Valid() bool {
	return s == WorkOrderOpen || s == WorkOrderInProgress || s == WorkOrderResolved
}

// Work order kinds and sources.
const (
	WorkOrderLockJam = "lock_jam"

	SourceJamRule  = "jam_rule" // opened by the property's jam rule
	SourceResident = "resident" // a resident's Notify maintenance
	SourceStaff    = "staff"    // opened by staff in the console or API
)

// WorkOrder is a job for the property's maintenance team on one lock. A
// lock has at most one work order that is not resolved; later jams,
// healthy operations and residents' reports go onto it.
type WorkOrder struct {
	ID         int64
	PropertyID int64
	UnitID     int64
	LockID     int64
	Kind       string // lock_jam
	Status     WorkOrderStatus
	Source     string // jam_rule, resident, staff
	Summary    string // why it was opened, e.g. "3 jams within 14 days"
	JamCount   int    // jams on the lock counted toward it: the rule's window at opening, and every later one
	AssigneeID int64  // staff id, 0 when nobody is assigned
	Resolution string // what was done, required to resolve
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time // first moved to in_progress
	ResolvedAt *time.Time
	// HealthyOps counts the lock's normal operations (lock, unlock, keypad
	// unlock) since the work order was opened; LastHealthyAt is the last.
	HealthyOps    int
	LastHealthyAt *time.Time
}

// WorkOrderWatcher is a resident told of a work order's progress, in the
// language they reported it in.
type WorkOrderWatcher struct {
	ResidentID int64
	Language   string
}

// WorkOrderNote is one line of a work order's timeline.
type WorkOrderNote struct {
	ID          int64
	WorkOrderID int64
	At          time.Time
	Author      string // "system", "staff:3", "resident:12", "staff:admin"
	Kind        string // opened, jam, cleared, healthy, report, note, status, assigned
	Text        string
}

// WorkOrderFilter selects work orders; zero fields select everything.
type WorkOrderFilter struct {
	PropertyIDs []int64 // nil: every property; empty but non-nil: none
	Status      WorkOrderStatus
	LockID      int64
	Limit       int
}

// WorkOrderStore keeps work orders, their timelines and watchers.
type WorkOrderStore interface {
	// CreateWorkOrder fails with ECONFLICT when the lock already has one
	// that is not resolved.
	CreateWorkOrder(ctx context.Context, w *WorkOrder) error
	WorkOrder(ctx context.Context, id int64) (*WorkOrder, error)
	// ActiveWorkOrder is the lock's work order that is not resolved
	// (ENOTFOUND if none).
	ActiveWorkOrder(ctx context.Context, lockID int64) (*WorkOrder, error)
	// WorkOrders lists work orders newest first.
	WorkOrders(ctx context.Context, f WorkOrderFilter) ([]*WorkOrder, error)
	UpdateWorkOrder(ctx context.Context, w *WorkOrder) error
	AddWorkOrderNote(ctx context.Context, n *WorkOrderNote) error
	// WorkOrderNotes lists a work order's timeline, oldest first.
	WorkOrderNotes(ctx context.Context, workOrderID int64) ([]*WorkOrderNote, error)
	// AddWorkOrderWatcher subscribes a resident to a work order's updates;
	// again keeps one subscription, in the latest language.
	AddWorkOrderWatcher(ctx context.Context, workOrderID int64, w WorkOrderWatcher) error
	WorkOrderWatchers(ctx context.Context, workOrderID int64) ([]WorkOrderWatcher, error)
}
