package store

import (
	"context"

	"sparekey"
)

func (t *tx) Units(ctx context.Context, propertyID int64) ([]*sparekey.Unit, error) {
	return getAll(ctx, t, "units", scanUnit,
		`SELECT `+unitColumns+` FROM units WHERE property_id = ? ORDER BY name, id`, propertyID)
}
