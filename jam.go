package sparekey

import (
	"context"
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

// JamStore keeps the jam episodes of locks.
type JamStore interface {
	CreateJam(ctx context.Context, j *Jam) error
	UpdateJam(ctx context.Context, j *Jam) error
	// OpenJam is the lock's jam that has not cleared (ENOTFOUND if none).
	OpenJam(ctx context.Context, lockID int64) (*Jam, error)
	// JamsSince lists the lock's jams that started after t, newest first.
	JamsSince(ctx context.Context, lockID int64, since time.Time, limit int) ([]*Jam, error)
	// UnclearedJams lists every jam not cleared that started at or before
	// t, oldest first.
	UnclearedJams(ctx context.Context, before time.Time) ([]*Jam, error)
}
