package upkeep

import (
	"context"
	"time"

	"sparekey"
)

// JamCount is a lock's jams in the last 30 days, and how many of them
// began after its last work order was resolved: the ones no fix has
// answered yet. FixedBy is that order (0: none resolved in the 30 days).
type JamCount struct {
	Days30, SinceFix int
	FixedBy          int64
}

// JamCounts returns each lock's JamCount, for the lock health page; locks
// without jams in 30 days are left out.
func (s *Service) JamCounts(ctx context.Context, lockIDs []int64) (map[int64]JamCount, error) {
	now := s.now()
	out := map[int64]JamCount{}
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		for _, id := range lockIDs {
			c, err := jamCount(ctx, tx, id, now)
			if err != nil {
				return err
			}
			if c.Days30 > 0 {
				out[id] = c
			}
		}
		return nil
	})
	return out, err
}

// jamCount counts a lock's jams of the 30 days up to now.
func jamCount(ctx context.Context, tx sparekey.Tx, lockID int64, now time.Time) (JamCount, error) {
	var c JamCount
	since := now.Add(-30 * 24 * time.Hour)
	jams, err := tx.JamsSince(ctx, lockID, since, 0)
	if err != nil || len(jams) == 0 {
		return c, err
	}
	c.Days30, c.SinceFix = len(jams), len(jams)
	last, err := tx.WorkOrders(ctx, sparekey.WorkOrderFilter{LockID: lockID, Status: sparekey.WorkOrderResolved, Limit: 1})
	if err != nil {
		return c, err
	}
	if len(last) == 1 && last[0].ResolvedAt != nil && last[0].ResolvedAt.After(since) {
		c.SinceFix, c.FixedBy = 0, last[0].ID
		for _, j := range jams {
			if !j.StartedAt.Before(*last[0].ResolvedAt) { // as the jam rule counts them
				c.SinceFix++
			}
		}
	}
	return c, nil
}
