package sparekey

import (
	"context"
	"time"
)

// LockDriver sends commands to locks through an adapter (the simulator,
// Zigbee2MQTT). Commands to an unreachable lock fail with ELOCKOFFLINE, to a
// jammed lock with ELOCKJAMMED.
type LockDriver interface {
	// SetPIN programs code into 0-based slot of the lock and returns once the
	// lock confirmed it.
	SetPIN(ctx context.Context, device string, slot int, code string) error
	// ClearPIN empties the slot and returns once the lock confirmed it.
	ClearPIN(ctx context.Context, device string, slot int) error
	Lock(ctx context.Context, device string) error
	Unlock(ctx context.Context, device string) error
}

// LockObserver is told of every event a lock reported, inside the
// transaction that records it, with the lock's state before the event: the
// jam rule watches locks this way without the lock code knowing about
// work orders.
type LockObserver interface {
	ObserveLockEvent(ctx context.Context, tx Tx, lock *Lock, before LockState, ev DeviceEvent) error
}

// DeviceEventKind is the kind of something a lock reported.
type DeviceEventKind string

const (
	EventKeypadUnlock DeviceEventKind = "keypad_unlock" // a code in Slot opened the door
	EventWrongCode    DeviceEventKind = "wrong_code"
	EventKeypadLocked DeviceEventKind = "keypad_disabled" // too many wrong codes
	EventLocked       DeviceEventKind = "locked"
	EventUnlocked     DeviceEventKind = "unlocked" // manual or remote
	EventJammed       DeviceEventKind = "jammed"
	EventJamCleared   DeviceEventKind = "jam_cleared"
	EventBattery      DeviceEventKind = "battery"
	EventOnline       DeviceEventKind = "online"
	EventOffline      DeviceEventKind = "offline"
	// EventState is a report of where the lock stands with nothing having
	// happened: the first report after start-up or a reconnect. It updates
	// the lock's live state and leaves no lock event, unless it shows a
	// jam not yet seen: that is recorded as EventJammed.
	EventState DeviceEventKind = "state"
	// EventReset is a lock that lost its codes (a factory reset, a new
	// lock in the old one's place): every slot must be programmed anew.
	EventReset DeviceEventKind = "reset"
)

// DeviceEvent is one report from a lock, as the adapter understood it.
type DeviceEvent struct {
	Device  string
	Kind    DeviceEventKind
	At      time.Time
	Slot    int       // keypad_unlock: the slot whose code was used; -1 otherwise
	Source  string    // keypad, manual, remote, rfid… when known
	State   LockState // the lock state after the event, when known
	Battery int       // percent for battery events; -1 when unknown
	// Replayed marks an event this instance kept while another instance
	// owned the lock, handed over when that one died: the dead owner may
	// have recorded it already.
	Replayed bool
}
