package store

import (
	"context"

	"sparekey"
)

const propertyColumns = `id, name, timezone, maintenance_email, maintenance_phone, created_at`

func scanProperty(row scanner) (*sparekey.Property, error) {
	var p sparekey.Property
	var createdAt int64
	if err := row.Scan(&p.ID, &p.Name, &p.Timezone, &p.MaintenanceEmail, &p.MaintenancePhone, &createdAt); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(createdAt)
	return &p, nil
}

func (t *tx) CreateProperty(ctx context.Context, p *sparekey.Property) error {
	id, err := t.insert(ctx, "create property", "property "+p.Name+" already exists", `
		INSERT INTO properties (name, timezone, maintenance_email, maintenance_phone, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		p.Name, p.Timezone, p.MaintenanceEmail, p.MaintenancePhone, micros(p.CreatedAt))
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
	return t.update(ctx, "update property", notFound("property %d not found", p.ID), "property "+p.Name+" already exists", `
		UPDATE properties SET name = ?, timezone = ?, maintenance_email = ?, maintenance_phone = ?
		WHERE id = ?`,
		p.Name, p.Timezone, p.MaintenanceEmail, p.MaintenancePhone, p.ID)
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
