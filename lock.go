package sparekey

import (
	"context"
	"time"
)

// LockState is the bolt's state as last reported by the lock.
type LockState string

const (
	LockStateUnknown  LockState = "unknown"
	LockStateLocked   LockState = "locked"
	LockStateUnlocked LockState = "unlocked"
	LockStateJammed   LockState = "jammed"
)

// Lock is a keypad smart lock on a door of a unit.
type Lock struct {
	ID        int64
	UnitID    int64
	Device    string // device name on the adapter, e.g. unit-101-front; unique
	Name      string // human name, e.g. "Front door"
	Adapter   string // "sim" or "z2m"
	SlotCount int    // user slots on the keypad, numbered 0..SlotCount-1
	CodeMin   int    // shortest code the keypad takes
	CodeMax   int    // longest code the keypad takes
	State     LockState
	Battery   int // percent, -1 when never reported
	Online    bool
	LastSeen  *time.Time
}

// LockEvent is something a lock reported, as recorded.
type LockEvent struct {
	ID     int64
	LockID int64
	At     time.Time
	Kind   DeviceEventKind
	Slot   int // -1 when no slot is involved
	Detail string
	// ResidentID is whose code opened the door (a keypad unlock); 0 when
	// nobody's or unknown.
	ResidentID int64
}

// LockStore keeps locks and their live state.
type LockStore interface {
	CreateLock(ctx context.Context, l *Lock) error
	Lock(ctx context.Context, id int64) (*Lock, error)
	LockByDevice(ctx context.Context, device string) (*Lock, error)
	LocksByUnit(ctx context.Context, unitID int64) ([]*Lock, error)
	Locks(ctx context.Context) ([]*Lock, error)
	UpdateLock(ctx context.Context, l *Lock) error
}

// LockEventStore keeps what locks reported.
type LockEventStore interface {
	RecordLockEvent(ctx context.Context, e *LockEvent) error
	LockEvents(ctx context.Context, lockID int64, limit int) ([]*LockEvent, error)
}
