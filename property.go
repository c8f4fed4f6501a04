package sparekey

import (
	"context"
	"time"
)

// Property is one apartment community.
type Property struct {
	ID               int64
	Name             string
	Timezone         string // IANA name, e.g. America/New_York
	MaintenanceEmail string
	MaintenancePhone string // E.164
	CreatedAt        time.Time
	// JamRule says when jams open a work order; a zero rule is
	// DefaultJamRule.
	JamRule JamRule
}

// Unit is one apartment of a property.
type Unit struct {
	ID         int64
	PropertyID int64
	Name       string // e.g. "101"
}

// PropertyStore keeps properties and their units.
type PropertyStore interface {
	CreateProperty(ctx context.Context, p *Property) error
	Property(ctx context.Context, id int64) (*Property, error)
	PropertyByName(ctx context.Context, name string) (*Property, error)
	Properties(ctx context.Context) ([]*Property, error) // by name
	UpdateProperty(ctx context.Context, p *Property) error

	CreateUnit(ctx context.Context, u *Unit) error
	Unit(ctx context.Context, id int64) (*Unit, error)
	UnitByName(ctx context.Context, propertyID int64, name string) (*Unit, error)
	// Units lists a property's units by name.
	Units(ctx context.Context, propertyID int64) ([]*Unit, error)
}
