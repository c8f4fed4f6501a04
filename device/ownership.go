package device

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"sparekey"
)

// Membership says which locks this instance owns among the instances
// sharing them (cluster.Member).
type Membership interface {
	Owns(device string) bool
	// Lapses counts the times this instance came back after its heartbeat
	// lapsed: every lock was someone else's meanwhile.
	Lapses() int
}

// Retrier programs what is pending on locks (access.Reconciler).
type Retrier interface {
	RetryLocks(ctx context.Context, devices []string) error
	RetryPending(ctx context.Context) error
}

// OwnershipConfig configures an Ownership. Every field but Logger and
// Wait is required.
type OwnershipConfig struct {
	Store   sparekey.Store // lists the locks
	Members Membership
	Drivers Driver // asks locks for their state: the Registry
	Codes   Retrier
	Events  *Delivery // replays the kept events of locks taken over
	Logger  *slog.Logger
	// Wait is the wait before the n-th (from 1) new try to list the
	// locks. Default 1s, 2s, 4s… up to 30s.
	Wait func(n int) time.Duration
}

// Ownership follows which locks this instance owns: it takes over the
// ones it gains, and reads the state of its own after a driver
// (re)connected. It is safe for concurrent use.
type Ownership struct {
	cfg OwnershipConfig
	log *slog.Logger

	mu       sync.Mutex
	owned    map[string]bool // the locks this instance owned at the last rebalance
	balanced bool            // Rebalance ran once: owned is known
	lapses   int             // Members.Lapses at the last rebalance
}

// NewOwnership returns an Ownership that knows no locks yet: the first
// Rebalance only notes which are this instance's.
func NewOwnership(cfg OwnershipConfig) *Ownership {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Wait == nil {
		cfg.Wait = func(n int) time.Duration { return min(time.Second<<min(n-1, 5), 30*time.Second) }
	}
	return &Ownership{cfg: cfg, log: cfg.Logger, owned: map[string]bool{}}
}

// Rebalance follows a change in the instances sharing the locks, or this
// instance's return after a lapse in its heartbeat: locks it now owns get
// the reports it kept while another owned them, a state read, and their
// pending codes retried. It returns the locks it took over.
func (o *Ownership) Rebalance(ctx context.Context) []string {
	// Nothing calls again until the instances change: a database still
	// slow after a lapse must not make the locks' kept reports wait that
	// long, so the list is asked for until it comes.
	var locks []*sparekey.Lock
	for n := 1; ; n++ {
		var err error
		if locks, err = o.locks(ctx); err == nil {
			break
		}
		wait := o.cfg.Wait(n)
		o.log.Error("list locks after the instances changed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	var gained []string
	o.mu.Lock()
	first := !o.balanced
	o.balanced = true
	// After a lapse in the heartbeat every lock was someone else's for a
	// while: the ones still ours are taken back like new ones.
	lapses := o.cfg.Members.Lapses()
	lapsed := lapses != o.lapses
	o.lapses = lapses
	for _, l := range locks {
		now := o.cfg.Members.Owns(l.Device)
		if now && (!o.owned[l.Device] || lapsed) && !first {
			gained = append(gained, l.Device)
		}
		o.owned[l.Device] = now
	}
	o.mu.Unlock()
	if len(gained) == 0 {
		return nil
	}
	o.log.Info("taking over locks", "locks", len(gained))
	o.cfg.Events.Replay(gained)
	o.refresh(ctx, gained)
	if err := o.cfg.Codes.RetryLocks(ctx, gained); err != nil {
		o.log.Error("retry pending codes after taking over locks", "err", err)
	}
	return gained
}

// Reconnected asks every lock this instance owns for its state and retries
// pending codes at once: a driver just (re)connected to its hub and may
// have missed reports.
func (o *Ownership) Reconnected(ctx context.Context) {
	locks, err := o.locks(ctx)
	if err != nil {
		o.log.Error("list locks after connecting", "err", err)
		return
	}
	var mine []string
	for _, l := range locks {
		if o.cfg.Members.Owns(l.Device) {
			mine = append(mine, l.Device)
		}
	}
	o.refresh(ctx, mine)
	if err := o.cfg.Codes.RetryPending(ctx); err != nil {
		o.log.Error("retry pending codes after connecting", "err", err)
	}
}

// refresh asks the locks for their state, stopping at the first failure:
// the connection is gone again, and the next one asks.
func (o *Ownership) refresh(ctx context.Context, devices []string) {
	for _, device := range devices {
		if err := o.cfg.Drivers.Refresh(ctx, device); err != nil {
			o.log.Warn("ask lock for its state", "lock", device, "err", err)
			return
		}
	}
}

func (o *Ownership) locks(ctx context.Context) (locks []*sparekey.Lock, err error) {
	err = o.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		locks, err = tx.Locks(ctx)
		return err
	})
	return locks, err
}
