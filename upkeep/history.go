package upkeep

import (
	"context"
	"fmt"
	"time"

	"sparekey"
)

// History is a door's record for the console: its jams, jams per week, the
// events it reported and its work orders.
type History struct {
	Lock       *sparekey.Lock
	Unit       *sparekey.Unit
	Property   *sparekey.Property
	Jams       []*sparekey.Jam // the last 90 days, newest first
	Jams30     JamCount        // jams in the last 30 days
	Weeks      []Week          // oldest first, ending with this week
	Events     []*sparekey.LockEvent
	WorkOrders []Listed
	Location   *time.Location // the property's time zone
}

// Week is one bar of the jams-per-week chart.
type Week struct {
	Start time.Time // Monday 00:00 in the property's time zone
	Jams  int
}

// HistoryWeeks is how many weeks the chart shows.
const HistoryWeeks = 12

// DoorHistory returns a lock's history; allowed says whether the caller
// works for its property (nil: any).
func (s *Service) DoorHistory(ctx context.Context, device string, allowed func(int64) bool) (*History, error) {
	now := s.now()
	var h History
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if h.Lock, err = tx.LockByDevice(ctx, device); err != nil {
			return err
		}
		p, err := placeOfLock(ctx, tx, h.Lock)
		if err != nil {
			return err
		}
		if allowed != nil && !allowed(p.Property.ID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", device)
		}
		h.Unit, h.Property, h.Location = p.Unit, p.Property, p.Location
		if h.Jams, err = tx.JamsSince(ctx, h.Lock.ID, now.AddDate(0, 0, -7*HistoryWeeks-7), 0); err != nil {
			return err
		}
		if h.Events, err = tx.LockEvents(ctx, h.Lock.ID, 50); err != nil {
			return err
		}
		h.Jams30, err = jamCount(ctx, tx, h.Lock.ID, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	h.Weeks = weeks(h.Jams, now, h.Location)
	if h.WorkOrders, err = s.WorkOrders(ctx, sparekey.WorkOrderFilter{LockID: h.Lock.ID, Limit: 20}); err != nil {
		return nil, err
	}
	return &h, nil
}

// weeks counts jams per calendar week (Monday first) in loc, for the last
// HistoryWeeks weeks up to now.
func weeks(jams []*sparekey.Jam, now time.Time, loc *time.Location) []Week {
	local := now.In(loc)
	monday := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc).
		AddDate(0, 0, -((int(local.Weekday()) + 6) % 7))
	out := make([]Week, HistoryWeeks)
	for i := range out {
		out[i].Start = monday.AddDate(0, 0, -7*(HistoryWeeks-1-i))
	}
	for _, j := range jams {
		t := j.StartedAt.In(loc)
		for i := len(out) - 1; i >= 0; i-- {
			if !t.Before(out[i].Start) {
				out[i].Jams++
				break
			}
		}
	}
	return out
}

// JamRule returns a property's jam rule.
func (s *Service) JamRule(ctx context.Context, propertyID int64) (*sparekey.Property, error) {
	var p *sparekey.Property
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		p, err = tx.Property(ctx, propertyID)
		return err
	})
	return p, err
}

// SetJamRule changes a property's jam rule; it applies to jams from now on.
func (s *Service) SetJamRule(ctx context.Context, propertyID int64, rule sparekey.JamRule, actor string) error {
	if err := rule.Validate(); err != nil {
		return err
	}
	return s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		p, err := tx.Property(ctx, propertyID)
		if err != nil {
			return err
		}
		old := p.JamRule
		p.JamRule = rule
		if err := tx.UpdateProperty(ctx, p); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: s.now(), Actor: actor, Action: "property.jam_rule_changed",
			Subject: fmt.Sprintf("property:%d", p.ID), Detail: map[string]string{"from": DescribeRule(old), "to": DescribeRule(rule)}})
	})
}
