package store

import (
	"context"
	"database/sql"

	"sparekey"
)

// Email and phone stay in plain text because messages are sent to them;
// email_hash and phone_hash let Get Code match a request, which holds only
// the hash, without decrypting or scanning anything.
const residentColumns = `id, unit_id, name, email, phone, created_at, moved_out_at`

func scanResident(row scanner) (*sparekey.Resident, error) {
	var r sparekey.Resident
	var createdAt int64
	var movedOutAt sql.NullInt64
	if err := row.Scan(&r.ID, &r.UnitID, &r.Name, &r.Email, &r.Phone, &createdAt, &movedOutAt); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(createdAt)
	r.MovedOutAt = timePtr(movedOutAt)
	return &r, nil
}

func (t *tx) CreateResident(ctx context.Context, r *sparekey.Resident) error {
	id, err := t.insert(ctx, "create resident", "", `
		INSERT INTO residents (unit_id, name, email, phone, email_hash, phone_hash, created_at, moved_out_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.UnitID, r.Name, r.Email, r.Phone, t.hashContact(r.Email), t.hashContact(r.Phone),
		micros(r.CreatedAt), nullMicros(r.MovedOutAt))
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

func (t *tx) Resident(ctx context.Context, id int64) (*sparekey.Resident, error) {
	return getOne(ctx, t, "resident", notFound("resident %d not found", id), scanResident,
		`SELECT `+residentColumns+` FROM residents WHERE id = ?`, id)
}

func (t *tx) ResidentByContactHash(ctx context.Context, kind sparekey.ContactKind, hash string) (*sparekey.Resident, error) {
	var column string
	switch kind {
	case sparekey.ContactEmail:
		column = "email_hash"
	case sparekey.ContactPhone:
		column = "phone_hash"
	default:
		return nil, sparekey.Errorf(sparekey.EINVALID, "unknown contact kind %q", kind)
	}
	// The message names neither the kind nor the hash: it may reach an
	// anonymous requester.
	missing := notFound("resident not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "resident by contact hash", missing, scanResident, `
		SELECT `+residentColumns+` FROM residents
		WHERE `+column+` = ? AND moved_out_at IS NULL
		ORDER BY id LIMIT 1`, hash)
}

func (t *tx) ResidentByEmail(ctx context.Context, email string) (*sparekey.Resident, error) {
	missing := notFound("resident with that email not found")
	if email == "" {
		return nil, missing
	}
	// One email may have lived in several units: prefer the active
	// resident, then the newest.
	return getOne(ctx, t, "resident by email", missing, scanResident, `
		SELECT `+residentColumns+` FROM residents
		WHERE email = ?
		ORDER BY CASE WHEN moved_out_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1`, email)
}

func (t *tx) ResidentByPhone(ctx context.Context, phone string) (*sparekey.Resident, error) {
	missing := notFound("resident with that phone not found")
	if phone == "" {
		return nil, missing
	}
	return getOne(ctx, t, "resident by phone", missing, scanResident, `
		SELECT `+residentColumns+` FROM residents
		WHERE phone = ? AND moved_out_at IS NULL
		ORDER BY id LIMIT 1`, phone)
}

func (t *tx) ResidentsByUnit(ctx context.Context, unitID int64) ([]*sparekey.Resident, error) {
	return getAll(ctx, t, "residents by unit", scanResident,
		`SELECT `+residentColumns+` FROM residents WHERE unit_id = ? ORDER BY id`, unitID)
}

func (t *tx) UpdateResident(ctx context.Context, r *sparekey.Resident) error {
	return t.update(ctx, "update resident", notFound("resident %d not found", r.ID), "", `
		UPDATE residents SET unit_id = ?, name = ?, email = ?, phone = ?, email_hash = ?, phone_hash = ?, moved_out_at = ?
		WHERE id = ?`,
		r.UnitID, r.Name, r.Email, r.Phone, t.hashContact(r.Email), t.hashContact(r.Phone),
		nullMicros(r.MovedOutAt), r.ID)
}
