package staff

import (
	"context"
	"slices"

	"sparekey"
)

// Properties lists the properties with the given ids, by name; nil ids
// lists every property.
func (s *Service) Properties(ctx context.Context, ids []int64) ([]*sparekey.Property, error) {
	var out []*sparekey.Property
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		props, err := tx.Properties(ctx)
		for _, p := range props {
			if ids == nil || slices.Contains(ids, p.ID) {
				out = append(out, p)
			}
		}
		return err
	})
	return out, err
}
