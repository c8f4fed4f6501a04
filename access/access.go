// Package access keeps the codes on every lock right. It has four parts,
// which New wires to each other:
//
//   - Codes gives codes out: residents' access codes, the pool of backup
//     codes programmed in advance (issued, used up, rotated) and move-outs.
//   - Reconciler drives each slot from its desired state to what the lock
//     confirmed, in the background.
//   - Recorder turns lock reports into lock state, lock events and audit
//     lines, and tells observers of each recorded event: Codes (a used
//     backup code is rotated), Reconciler (a lock back online or reset is
//     programmed at once) and any others (the jam rule).
//   - Doors answers staff about locks and locks or unlocks them remotely.
package access

import (
	"context"
	"log/slog"
	"time"

	"sparekey"
)

// Config configures the parts of access.
type Config struct {
	Store  sparekey.Store
	Driver sparekey.LockDriver
	Clock  sparekey.Clock
	Logger *slog.Logger

	// PoolSize is the number of backup slots kept on every lock. Default 3.
	PoolSize int
	// MaxSyncAttempts is how many failed programming attempts (lock online)
	// flag a slot as failed for staff instead of retrying. Default 8.
	MaxSyncAttempts int
	// SyncInterval is how often the reconciler looks for work when nobody
	// nudges it. Default 2s.
	SyncInterval time.Duration
	// Owns says whether this instance programs the lock's codes and
	// rotates its backup codes, when several instances share the locks
	// (cluster.Member.Owns). nil: every lock.
	Owns func(device string) bool
	// Parallel is how many locks the reconciler programs at once. Default
	// 16.
	Parallel int
	// Observers are told of every event a lock reported, in the
	// transaction that records it (the jam rule), after Codes and the
	// Reconciler. Optional.
	Observers []sparekey.LockObserver
	// BackoffMax caps the delay between retries of one slot. Default 5m;
	// retries for an offline lock are capped at 1m and a lock coming back
	// online retries at once.
	BackoffMax time.Duration
}

// Service is the four parts of access, wired to each other. Other
// packages take the part they need: web the Doors, roster and lockout the
// Codes, the device layer the Recorder and the Reconciler.
type Service struct {
	Codes      *Codes
	Reconciler *Reconciler
	Recorder   *Recorder
	Doors      *Doors
}

// New returns the parts with defaults filled in.
func New(cfg Config) *Service {
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 3
	}
	if cfg.MaxSyncAttempts == 0 {
		cfg.MaxSyncAttempts = 8
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 2 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := base{cfg: cfg, log: cfg.Logger}
	codes := &Codes{base: b}
	rec := newReconciler(b, codes)
	codes.wake = rec.Nudge
	observers := append([]sparekey.LockObserver{codes, rec}, cfg.Observers...)
	return &Service{
		Codes:      codes,
		Reconciler: rec,
		Recorder:   &Recorder{base: b, observers: observers, wake: rec.Nudge},
		Doors:      &Doors{base: b},
	}
}

// base is what every part shares: the configuration and the logger.
type base struct {
	cfg Config
	log *slog.Logger
}

func (b base) now() time.Time { return b.cfg.Clock.Now() }

// locks reads every lock, in a read transaction of its own.
func (b base) locks(ctx context.Context) (locks []*sparekey.Lock, err error) {
	err = b.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		locks, err = tx.Locks(ctx)
		return err
	})
	return locks, err
}

func (b base) owns(device string) bool { return b.cfg.Owns == nil || b.cfg.Owns(device) }
