// Package upkeep turns jammed locks into work for the property's on-site
// maintenance team. It tracks every jam of every lock (start, cause, keypad
// tries, how it cleared), applies each property's jam rule, opens one work
// order per lock and notifies the team through the outbox, adds later jams
// and healthy operations to the open order, takes residents' "Notify
// maintenance" reports, and moves work orders from open to resolved.
package upkeep

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sparekey"
	"sparekey/loop"
)

// Config configures a Service.
type Config struct {
	Store  sparekey.Store
	Clock  sparekey.Clock
	Logger *slog.Logger
	// BaseURL is the public URL; messages to staff link to the console
	// under it.
	BaseURL string
	// SweepInterval is how often jams that stay uncleared are checked
	// against the rule. Default 15s.
	SweepInterval time.Duration
	// Queued is called after messages were queued (to wake the outbox).
	// Optional.
	Queued func()
	// Opened is called after the jam rule opened a work order (for
	// metrics). Optional.
	Opened func(source string)
}

// Service implements jam tracking, the jam rule and work orders.
type Service struct {
	cfg  Config
	log  *slog.Logger
	loop *loop.Loop
}

var _ sparekey.LockObserver = (*Service)(nil)

// New returns a Service with defaults filled in.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 15 * time.Second
	}
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.loop = loop.New(cfg.SweepInterval, func(ctx context.Context) (bool, error) {
		return false, s.Sweep(ctx)
	}, func(err error) { s.log.Error("jam sweep", "err", err) })
	return s
}

// Start runs the sweep for jams that stay uncleared until ctx ends or Stop.
func (s *Service) Start(ctx context.Context) { s.loop.Start(ctx) }

// Stop stops the sweep and waits for a pass under way.
func (s *Service) Stop() { s.loop.Stop() }

// Wake runs the sweep now (the demo's clock moved).
func (s *Service) Wake() { s.loop.Wake() }

func (s *Service) now() time.Time { return s.cfg.Clock.Now() }

func (s *Service) queued() {
	if s.cfg.Queued != nil {
		s.cfg.Queued()
	}
}

// ObserveLockEvent tracks jams and applies the jam rule; access calls it
// inside the transaction that records each lock report.
func (s *Service) ObserveLockEvent(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, before sparekey.LockState, ev sparekey.DeviceEvent) error {
	switch ev.Kind {
	case sparekey.EventJammed:
		return s.jammed(ctx, tx, lock, ev)
	case sparekey.EventJamCleared, sparekey.EventLocked, sparekey.EventUnlocked, sparekey.EventKeypadUnlock:
		return s.worked(ctx, tx, lock, ev)
	}
	return nil
}

// jammed records a jam report: a new jam, or one more keypad try on a jam
// not yet cleared. A new jam goes onto the lock's open work order, or
// opens one when the property's rule says so.
func (s *Service) jammed(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, ev sparekey.DeviceEvent) error {
	jam, err := tx.OpenJam(ctx, lock.ID)
	switch sparekey.ErrorCode(err) {
	case "":
		if ev.Source == "keypad" {
			jam.Attempts++
			return tx.UpdateJam(ctx, jam)
		}
		return nil // the same jam reported again
	case sparekey.ENOTFOUND:
	default:
		return err
	}
	jam = &sparekey.Jam{LockID: lock.ID, StartedAt: ev.At, Cause: cause(ev)}
	if ev.Source == "keypad" {
		jam.Attempts = 1
	}
	if err := tx.CreateJam(ctx, jam); err != nil {
		return err
	}
	wo, err := tx.ActiveWorkOrder(ctx, lock.ID)
	switch sparekey.ErrorCode(err) {
	case "":
		wo.JamCount++
		wo.UpdatedAt = s.now()
		if err := tx.UpdateWorkOrder(ctx, wo); err != nil {
			return err
		}
		return s.note(ctx, tx, wo, "system", "jam", fmt.Sprintf("Jammed again (%s). %s on this order.", jam.Cause, plural(wo.JamCount, "jam")))
	case sparekey.ENOTFOUND:
	default:
		return err
	}
	place, err := placeOfLock(ctx, tx, lock)
	if err != nil {
		return err
	}
	rule := place.Property.JamRule
	jams, err := s.countedJams(ctx, tx, lock, rule, ev.At)
	if err != nil {
		return err
	}
	if jams < rule.Jams {
		return nil
	}
	summary := fmt.Sprintf("Jammed %s within %s.", plural(jams, "time"), Span(rule.Window))
	if rule.Jams == 1 {
		summary = "Jammed."
	}
	_, err = s.open(ctx, tx, place, sparekey.SourceJamRule, "system", summary, jams)
	return err
}

// countedJams is how many jams of the lock count toward the rule at t:
// those within the rule's window, and only since the last work order on
// the lock was resolved (the fix starts the count anew).
func (s *Service) countedJams(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, rule sparekey.JamRule, t time.Time) (int, error) {
	since := t.Add(-rule.Window)
	last, err := tx.WorkOrders(ctx, sparekey.WorkOrderFilter{LockID: lock.ID, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(last) == 1 && last[0].ResolvedAt != nil && last[0].ResolvedAt.After(since) {
		since = *last[0].ResolvedAt
	}
	// JamsSince excludes its bound: step back so a jam at exactly the
	// window's start still counts.
	jams, err := tx.JamsSince(ctx, lock.ID, since.Add(-time.Microsecond), 0)
	if err != nil {
		return 0, err
	}
	return len(jams), nil
}

// worked records a sign of the lock working: a cleared jam report, or a
// lock or unlock (which a jammed bolt cannot do). It ends the jam under way
// and notes the healthy operation on the lock's open work order.
func (s *Service) worked(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, ev sparekey.DeviceEvent) error {
	jam, err := tx.OpenJam(ctx, lock.ID)
	switch sparekey.ErrorCode(err) {
	case "":
		at := ev.At
		jam.ClearedAt, jam.ClearedBy = &at, string(ev.Kind)
		if err := tx.UpdateJam(ctx, jam); err != nil {
			return err
		}
	case sparekey.ENOTFOUND:
		jam = nil
	default:
		return err
	}
	wo, err := tx.ActiveWorkOrder(ctx, lock.ID)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	healthy := ev.Kind != sparekey.EventJamCleared
	if healthy {
		at := ev.At
		wo.HealthyOps++
		wo.LastHealthyAt = &at
	}
	wo.UpdatedAt = s.now()
	if err := tx.UpdateWorkOrder(ctx, wo); err != nil {
		return err
	}
	switch {
	case jam != nil:
		return s.note(ctx, tx, wo, "system", "cleared", fmt.Sprintf("Jam cleared after %s (%s).", took(ev.At.Sub(jam.StartedAt)), operation(ev)))
	case healthy && wo.HealthyOps == 1:
		// The first normal operation says the door works; the rest are
		// counted on the order, not listed.
		return s.note(ctx, tx, wo, "system", "healthy", fmt.Sprintf("Worked normally (%s).", operation(ev)))
	}
	return nil
}

// Sweep opens a work order for every jam that stayed uncleared longer than
// its property's rule allows, unless the lock has one already or got one
// since the jam began.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	var jams []*sparekey.Jam
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		jams, err = tx.UnclearedJams(ctx, now.Add(-time.Minute))
		return err
	})
	if err != nil {
		return err
	}
	opened := false
	defer func() {
		if opened {
			s.queued() // the orders' messages to the team are committed
		}
	}()
	for _, jam := range jams {
		var wo *sparekey.WorkOrder
		err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) (err error) {
			wo, err = s.sweepJam(ctx, tx, jam.LockID, now)
			return err
		})
		if err != nil && sparekey.ErrorCode(err) != sparekey.ECONFLICT {
			return err
		}
		opened = opened || (err == nil && wo != nil)
	}
	return nil
}

// sweepJam opens the lock's work order if its jam stayed uncleared too
// long; it returns the order it opened, or nil.
func (s *Service) sweepJam(ctx context.Context, tx sparekey.Tx, lockID int64, now time.Time) (*sparekey.WorkOrder, error) {
	// The lock's row first, then its jam's, as lock reports take them:
	// the other order deadlocks with them on PostgreSQL.
	lock, err := tx.Lock(ctx, lockID)
	if err != nil {
		return nil, err
	}
	jam, err := tx.OpenJam(ctx, lockID)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil, nil // cleared meanwhile
	} else if err != nil {
		return nil, err
	}
	place, err := placeOfLock(ctx, tx, lock)
	if err != nil {
		return nil, err
	}
	uncleared := place.Property.JamRule.Uncleared
	if now.Sub(jam.StartedAt) < uncleared {
		return nil, nil
	}
	last, err := tx.WorkOrders(ctx, sparekey.WorkOrderFilter{LockID: lockID, Limit: 1})
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Jammed and not cleared for %s.", Span(uncleared))
	if len(last) == 1 {
		wo := last[0]
		// The order saw this jam if it was open at any time since the
		// jam began. Resolved with the jam still on, it gets the fix one
		// more window: a lock still jammed after that needs a new order.
		if saw := !wo.CreatedAt.Before(jam.StartedAt) || wo.ResolvedAt == nil || wo.ResolvedAt.After(jam.StartedAt); saw {
			if wo.ResolvedAt == nil || now.Sub(*wo.ResolvedAt) < uncleared {
				return nil, nil
			}
			summary = fmt.Sprintf("Still jammed %s after work order #%d was resolved.", Span(uncleared), wo.ID)
		}
	}
	jams, err := s.countedJams(ctx, tx, lock, place.Property.JamRule, now)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, tx, place, sparekey.SourceJamRule, "system", summary, jams)
}

func cause(ev sparekey.DeviceEvent) string {
	if ev.Source != "" {
		return "reported on " + ev.Source + " use"
	}
	return "reported by the lock"
}

func operation(ev sparekey.DeviceEvent) string {
	what := map[sparekey.DeviceEventKind]string{
		sparekey.EventJamCleared:   "the lock reported the jam cleared",
		sparekey.EventLocked:       "locked",
		sparekey.EventUnlocked:     "unlocked",
		sparekey.EventKeypadUnlock: "unlocked with a code",
	}[ev.Kind]
	if ev.Source != "" && ev.Kind != sparekey.EventKeypadUnlock && ev.Kind != sparekey.EventJamCleared {
		what += " from the " + ev.Source
	}
	return what
}

// took says how long something lasted, to the minute.
func took(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	return Span(d.Round(time.Minute))
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
