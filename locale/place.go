package locale

import (
	"context"
	"time"

	"sparekey"
)

// A Place is where a resident lives or a lock is, as messages and pages
// name it: a text from an unknown sender with a link looks like phishing,
// one naming your building and unit less so. Times are written in its
// property's time zone.
type Place struct {
	Unit     *sparekey.Unit
	Property *sparekey.Property
	Location *time.Location
}

// Places reads units and properties; a sparekey.Tx does.
type Places interface {
	Unit(ctx context.Context, id int64) (*sparekey.Unit, error)
	Property(ctx context.Context, id int64) (*sparekey.Property, error)
}

// PlaceOf reads the unit of unitID and its property. A unit always has a
// property, so a failed read is an error, never a place without a name.
func PlaceOf(ctx context.Context, tx Places, unitID int64) (*Place, error) {
	unit, err := tx.Unit(ctx, unitID)
	if err != nil {
		return nil, err
	}
	prop, err := tx.Property(ctx, unit.PropertyID)
	if err != nil {
		return nil, err
	}
	return &Place{Unit: unit, Property: prop, Location: Location(prop.Timezone)}, nil
}
