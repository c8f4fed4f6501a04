package roster

import (
	"context"

	"sparekey"
)

// Mover ends a resident's access; access.Codes implements it.
type Mover interface {
	MoveOut(ctx context.Context, residentID int64, actor string) (int, error)
}

// MoveOut moves a resident of one of the allowed properties out.
func (d *Directory) MoveOut(ctx context.Context, residentID int64, allowed func(propertyID int64) bool, actor string) (*sparekey.Resident, int, error) {
	var r *sparekey.Resident
	err := d.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if r, err = tx.Resident(ctx, residentID); err != nil {
			return err
		}
		unit, err := tx.Unit(ctx, r.UnitID)
		if err != nil {
			return err
		}
		if !allowed(unit.PropertyID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "resident %d not found", residentID)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	n, err := d.Mover.MoveOut(ctx, residentID, actor)
	return r, n, err
}

// Departure is the outcome of a move-out.
type Departure struct {
	Resident     *sparekey.Resident
	Unit         string
	CodesCleared int
}

// MoveOutContact moves out the active resident with this email address or
// E.164 phone number (see Mover). allowed says whether the caller works
// for the resident's property (nil: any); a resident of another property
// is not found.
func (d *Directory) MoveOutContact(ctx context.Context, kind sparekey.ContactKind, value string, allowed func(propertyID int64) bool, actor string) (*Departure, error) {
	var r *sparekey.Resident
	var unit *sparekey.Unit
	err := d.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if kind == sparekey.ContactEmail {
			r, err = tx.ResidentByEmail(ctx, value)
		} else {
			r, err = tx.ResidentByPhone(ctx, value)
		}
		if err != nil {
			return err
		}
		if unit, err = tx.Unit(ctx, r.UnitID); err != nil {
			return err
		}
		if allowed != nil && !allowed(unit.PropertyID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "resident not found")
		}
		return nil
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil, sparekey.Errorf(sparekey.ENOTFOUND, "no resident has that %s", kind)
	} else if err != nil {
		return nil, err
	}
	n, err := d.Mover.MoveOut(ctx, r.ID, actor)
	if err != nil {
		return nil, err
	}
	now := d.Clock.Now()
	r.MovedOutAt = &now
	return &Departure{Resident: r, Unit: unit.Name, CodesCleared: n}, nil
}
