package upkeep

import (
	"context"
	"time"

	"sparekey"
)

// JamCounts returns how many jams each lock had in the last 30 days, for
// the lock health page; locks without jams are left out.
func (s *Service) JamCounts(ctx context.Context, lockIDs []int64) (map[int64]int, error) {
	since := s.now().Add(-30 * 24 * time.Hour)
	out := map[int64]int{}
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		for _, id := range lockIDs {
			jams, err := tx.JamsSince(ctx, id, since, 0)
			if err != nil {
				return err
			}
			if len(jams) > 0 {
				out[id] = len(jams)
			}
		}
		return nil
	})
	return out, err
}
