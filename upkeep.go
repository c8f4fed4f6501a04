package sparekey

import (
	"context"
	"fmt"
	"time"
)

// JamRule says when a lock's jams become a work order for the property's
// maintenance team: Jams jams within Window, or one jam not cleared within
// Uncleared. Each property has its own.
type JamRule struct {
	Jams      int           // jams within Window that open a work order; default 3
	Window    time.Duration // default 14 days
	Uncleared time.Duration // a jam still not cleared after this opens one; default 30 minutes
}

// DefaultJamRule is the rule a new property starts with.
var DefaultJamRule = JamRule{Jams: 3, Window: 14 * 24 * time.Hour, Uncleared: 30 * time.Minute}

// Validate reports a rule a property cannot use, in words for the manager.
func (r JamRule) Validate() error {
	switch {
	case r.Jams < 1 || r.Jams > 100:
		return Errorf(EINVALID, "The number of jams must be between 1 and 100, not %d.", r.Jams)
	case r.Window < time.Hour || r.Window > 365*24*time.Hour:
		return Errorf(EINVALID, "The jam window must be between 1 hour and 365 days.")
	case r.Uncleared < time.Minute || r.Uncleared > 7*24*time.Hour:
		return Errorf(EINVALID, "The time a jam may stay uncleared must be between 1 minute and 7 days.")
	}
	return nil
}

// String is the rule as the console states it.
func (r JamRule) String() string {
	jams := fmt.Sprintf("%d jams", r.Jams)
	if r.Jams == 1 {
		jams = "1 jam"
	}
	return fmt.Sprintf("%s within %s, or one jam not cleared within %s", jams, Span(r.Window), Span(r.Uncleared))
}

// Span writes a duration the way people say it: "14 days", "30 minutes",
// "1 hour 30 minutes".
func Span(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Hour:
		return unit(int64(d/time.Hour), "hour") + " " + unit(int64(d%time.Hour/time.Minute), "minute")
	default:
		return unit(int64(d/time.Minute), "minute")
	}
}

// Jam is one episode of a lock's bolt being stuck, from the first jam
// report until the lock reports it cleared or works again. Keypad tries
// while jammed are counted on the episode, not as new jams.
type Jam struct {
	ID        int64
	LockID    int64
	StartedAt time.Time
	Cause     string // what reported it, e.g. "keypad", "door_state: error_jammed"
	Attempts  int    // codes typed while jammed
	ClearedAt *time.Time
	ClearedBy string // what showed it cleared: jam_cleared, locked, unlocked, keypad_unlock
}

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

// StaffRole is what a staff account may do. Both roles see work orders and
// locks of their properties; managers also manage residents, jam rules and
// read the audit log.
type StaffRole string

const (
	RoleManager     StaffRole = "manager"
	RoleMaintenance StaffRole = "maintenance"
)

// Staff is an account of the property's team. Email is lower-cased;
// PasswordHash is an argon2id PHC string.
type Staff struct {
	ID           int64
	Email        string
	Name         string
	Role         StaffRole
	PasswordHash string
	Properties   []int64 // the properties the account works for
	CreatedAt    time.Time
	// FailedLogins counts wrong passwords in a row; at the limit the
	// account refuses sign-ins until LockedUntil.
	FailedLogins int
	LockedUntil  *time.Time
}

// WorksFor reports whether the account works for the property.
func (s *Staff) WorksFor(propertyID int64) bool {
	for _, id := range s.Properties {
		if id == propertyID {
			return true
		}
	}
	return false
}

// StaffSession is a signed-in staff member's session. Only a keyed hash of
// its token is stored.
type StaffSession struct {
	ID        int64
	TokenHash string
	StaffID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	ActionPrefix string // e.g. "work_order." or "lock.jammed"
	Actor        string // exact, e.g. "staff:3"
	Subject      string // exact, e.g. "lock:unit-101-front"
	Since, Until time.Time
	Limit        int
}

// LockObserver is told of every event a lock reported, inside the
// transaction that records it, with the lock's state before the event: the
// jam rule watches locks this way without the lock code knowing about
// work orders.
type LockObserver interface {
	ObserveLockEvent(ctx context.Context, tx Tx, lock *Lock, before LockState, ev DeviceEvent) error
}
