package store

import (
	"context"
	"time"

	"sparekey"
)

// A property's jam rule is kept in three columns; its durations are
// microseconds, like times.
const propertyColumns = `id, name, timezone, maintenance_email, maintenance_phone, created_at,
	jam_rule_jams, jam_rule_window, jam_rule_uncleared`

func scanProperty(row scanner) (*sparekey.Property, error) {
	var p sparekey.Property
	var createdAt, window, uncleared int64
	if err := row.Scan(&p.ID, &p.Name, &p.Timezone, &p.MaintenanceEmail, &p.MaintenancePhone, &createdAt,
		&p.JamRule.Jams, &window, &uncleared); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(createdAt)
	p.JamRule.Window = time.Duration(window) * time.Microsecond
	p.JamRule.Uncleared = time.Duration(uncleared) * time.Microsecond
	return &p, nil
}

// defaultJamRule gives a property with a zero jam rule the default one, as
// it will be stored.
func defaultJamRule(p *sparekey.Property) {
	if p.JamRule == (sparekey.JamRule{}) {
		p.JamRule = sparekey.DefaultJamRule
	}
}

func (t *tx) CreateProperty(ctx context.Context, p *sparekey.Property) error {
	defaultJamRule(p)
	id, err := t.insert(ctx, "create property", "property "+p.Name+" already exists", `
		INSERT INTO properties (name, timezone, maintenance_email, maintenance_phone, created_at,
			jam_rule_jams, jam_rule_window, jam_rule_uncleared)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Name, p.Timezone, p.MaintenanceEmail, p.MaintenancePhone, micros(p.CreatedAt),
		p.JamRule.Jams, p.JamRule.Window.Microseconds(), p.JamRule.Uncleared.Microseconds())
	if err != nil {
		return err
	}
	p.ID = id
	return nil
}

func (t *tx) Property(ctx context.Context, id int64) (*sparekey.Property, error) {
	return getOne(ctx, t, "property", notFound("property %d not found", id), scanProperty,
		`SELECT `+propertyColumns+` FROM properties WHERE id = ?`, id)
}

func (t *tx) PropertyByName(ctx context.Context, name string) (*sparekey.Property, error) {
	return getOne(ctx, t, "property by name", notFound("property %s not found", name), scanProperty,
		`SELECT `+propertyColumns+` FROM properties WHERE name = ?`, name)
}

func (t *tx) Properties(ctx context.Context) ([]*sparekey.Property, error) {
	return getAll(ctx, t, "properties", scanProperty, `SELECT `+propertyColumns+` FROM properties ORDER BY name`)
}

func (t *tx) UpdateProperty(ctx context.Context, p *sparekey.Property) error {
	defaultJamRule(p)
	return t.update(ctx, "update property", notFound("property %d not found", p.ID), "property "+p.Name+" already exists", `
		UPDATE properties SET name = ?, timezone = ?, maintenance_email = ?, maintenance_phone = ?,
			jam_rule_jams = ?, jam_rule_window = ?, jam_rule_uncleared = ?
		WHERE id = ?`,
		p.Name, p.Timezone, p.MaintenanceEmail, p.MaintenancePhone,
		p.JamRule.Jams, p.JamRule.Window.Microseconds(), p.JamRule.Uncleared.Microseconds(), p.ID)
}

const unitColumns = `id, property_id, name`

func scanUnit(row scanner) (*sparekey.Unit, error) {
	var u sparekey.Unit
	if err := row.Scan(&u.ID, &u.PropertyID, &u.Name); err != nil {
		return nil, err
	}
	return &u, nil
}

func (t *tx) CreateUnit(ctx context.Context, u *sparekey.Unit) error {
	id, err := t.insert(ctx, "create unit", "unit "+u.Name+" already exists",
		`INSERT INTO units (property_id, name) VALUES (?, ?) RETURNING id`, u.PropertyID, u.Name)
	if err != nil {
		return err
	}
	u.ID = id
	return nil
}

func (t *tx) Unit(ctx context.Context, id int64) (*sparekey.Unit, error) {
	return getOne(ctx, t, "unit", notFound("unit %d not found", id), scanUnit,
		`SELECT `+unitColumns+` FROM units WHERE id = ?`, id)
}

func (t *tx) UnitByName(ctx context.Context, propertyID int64, name string) (*sparekey.Unit, error) {
	return getOne(ctx, t, "unit by name", notFound("unit %s not found", name), scanUnit,
		`SELECT `+unitColumns+` FROM units WHERE property_id = ? AND name = ?`, propertyID, name)
}
