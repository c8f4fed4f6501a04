package sparekey

import (
	"context"
	"time"
)

// Work with the store always happens inside a transaction.
type Store interface {
	// Tx runs fn in a read-write transaction and commits when fn returns nil.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}

// Tx is everything the domain can do with storage inside one transaction:
// the store of every area together. A missing row is an *Error with code
// ENOTFOUND, never (nil, nil).
type Tx interface {
	PropertyStore
	ResidentStore
	LockStore
	SlotStore
	LockEventStore
	BackupStore
	OutboxStore
	AuditStore
	JamStore
	WorkOrderStore
	SignInStore
	StaffStore
	MetaStore
	InstanceStore
	StatsStore

	// Serialize makes transactions naming the same key take turns, until
	// this one ends: for limits checked by counting, then inserting.
	Serialize(ctx context.Context, key string) error
}

// MetaStore keeps the settings of the installation.
type MetaStore interface {
	// Meta reads a setting (ENOTFOUND when unset); SetMeta writes one.
	Meta(ctx context.Context, name string) (string, error)
	SetMeta(ctx context.Context, name, value string) error
}

// InstanceStore keeps which instances of Sparekey are alive.
type InstanceStore interface {
	// Heartbeat records that instance id, run by process, is alive, on
	// the database's clock; ECONFLICT when another process used the id
	// within ttl.
	Heartbeat(ctx context.Context, id, process string, ttl time.Duration) error
	// Instances lists the instances heard from within ttl, sorted.
	Instances(ctx context.Context, ttl time.Duration) ([]string, error)
	RemoveInstance(ctx context.Context, id, process string) error
	// ReleaseClaims ends the leases instance id holds on Get Code
	// requests, sign-ins and messages, and returns how many it ended: the
	// instance, started again after a crash, takes them back at once.
	// Call it only where no process under that id can still be working.
	ReleaseClaims(ctx context.Context, id string) (int, error)
}

// Stats are counts of the database's state, for metrics.
type Stats struct {
	Messages        map[Channel]map[MessageStatus]int
	Locks           map[LockState]int // by reported state; unknown for never reported
	LocksOnline     int
	LocksLowBattery int // reported battery under 20%
	Slots           map[SyncStatus]int
	RequestsPending int // Get Code requests the job has not answered
}

// StatsStore counts what operators watch.
type StatsStore interface {
	// Stats counts messages by channel and status, locks by state, slots
	// by sync status and requests not yet answered.
	Stats(ctx context.Context) (*Stats, error)
}
