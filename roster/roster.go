// Package roster brings residents in: the CSV roster import and the demo
// data. Every resident it adds gets an access code on their unit's locks.
package roster

import (
	"context"
	"errors"
	"fmt"
	"sparekey/contact"
	"time"

	"sparekey"
)

// Codes programs codes onto locks; access.Codes implements it.
type Codes interface {
	AssignResidentCode(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, r *sparekey.Resident, code string) (*sparekey.Slot, error)
	ProvisionLock(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock) error
}

// Lock defaults for locks created by an import: a Zigbee keypad deadbolt
// with 30 user slots, taking the 6–8 digit codes Sparekey uses.
const (
	DefaultSlotCount = 30
	DefaultCodeMin   = 6
	DefaultCodeMax   = 8
	DefaultTimezone  = "America/New_York"
)

// Entry is one resident to add: where they live, who they are and, for the
// demo, the access code they already have ("" for a fresh random one).
type Entry struct {
	Line       int // CSV line, for error messages; 0 when not from a file
	Property   string
	Unit       string
	Lock       string // device name
	LockName   string // human name; default "Front door"
	Name       string
	Email      string // normalized
	Phone      string // E.164
	AccessCode string
}

// Add writes every entry in one transaction: properties, units and locks are
// created when missing, each resident is added with an access code on every
// lock of their unit, and every new lock gets its backup pool. If any entry
// fails, nothing is written and the error names its line.
func Add(ctx context.Context, store sparekey.Store, codes Codes, clock sparekey.Clock, entries []Entry) error {
	d := &Directory{Store: store, Codes: codes, Clock: clock}
	return d.Add(ctx, entries, "system", false)
}

// addAll adds entries on behalf of actor ("system", "staff:3"), who is
// named on each resident.moved_in line of the audit trail.
func addAll(ctx context.Context, tx sparekey.Tx, codes Codes, now time.Time, actor string, entries []Entry) error {
	for _, e := range entries {
		if err := add(ctx, tx, codes, now, actor, e); err != nil {
			switch code := sparekey.ErrorCode(err); {
			case e.Line == 0:
				return err
			case code == sparekey.EINTERNAL:
				return fmt.Errorf("line %d: %w", e.Line, err)
			default:
				return sparekey.Errorf(code, "line %d: %s", e.Line, sparekey.ErrorMessage(err))
			}
		}
	}
	return nil
}

func add(ctx context.Context, tx sparekey.Tx, codes Codes, now time.Time, actor string, e Entry) error {
	prop, err := tx.PropertyByName(ctx, e.Property)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		prop = &sparekey.Property{Name: e.Property, Timezone: DefaultTimezone, CreatedAt: now}
		err = tx.CreateProperty(ctx, prop)
	}
	if err != nil {
		return err
	}
	unit, err := tx.UnitByName(ctx, prop.ID, e.Unit)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		unit = &sparekey.Unit{PropertyID: prop.ID, Name: e.Unit}
		err = tx.CreateUnit(ctx, unit)
	}
	if err != nil {
		return err
	}
	lock, err := tx.LockByDevice(ctx, e.Lock)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		name := e.LockName
		if name == "" {
			name = "Front door"
		}
		lock = &sparekey.Lock{UnitID: unit.ID, Device: e.Lock, Name: name, Adapter: "sim", SlotCount: DefaultSlotCount,
			CodeMin: DefaultCodeMin, CodeMax: DefaultCodeMax, State: sparekey.LockStateUnknown, Battery: -1}
		if err = tx.CreateLock(ctx, lock); err == nil {
			err = newLock(ctx, tx, codes, lock)
		}
	} else if err == nil && lock.UnitID != unit.ID {
		return fieldError("lock", fmt.Sprintf("lock %s belongs to another unit", e.Lock))
	}
	if err != nil {
		return err
	}
	if contact.Costly(e.Phone) { // every way in checks it first; this is the last guard
		return fieldError("phone", fmt.Sprintf("%s is a premium-rate or shared-cost number, never a resident's phone", e.Phone))
	}
	if old, err := tx.ResidentByEmail(ctx, e.Email); err == nil && old.Active() {
		return fieldError("email", fmt.Sprintf("%s is already on the roster", e.Email))
	} else if err != nil && sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
		return err
	}
	if _, err := tx.ResidentByPhone(ctx, e.Phone); err == nil {
		// Not whose: the importer may manage another property than theirs.
		return fieldError("phone", fmt.Sprintf("%s is already another resident's phone; each resident needs their own phone to get codes by text", e.Phone))
	} else if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
		return err
	}
	r := &sparekey.Resident{UnitID: unit.ID, Name: e.Name, Email: e.Email, Phone: e.Phone, CreatedAt: now}
	if err := tx.CreateResident(ctx, r); err != nil {
		return err
	}
	locks, err := tx.LocksByUnit(ctx, unit.ID)
	if err != nil {
		return err
	}
	for _, l := range locks {
		if _, err := codes.AssignResidentCode(ctx, tx, l, r, e.AccessCode); err != nil {
			var fe *sparekey.Error
			if errors.As(err, &fe) && fe.Code != sparekey.EINTERNAL {
				return fieldError("lock", fe.Message)
			}
			return err
		}
	}
	return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: actor, Action: "resident.moved_in",
		Subject: fmt.Sprintf("resident:%d", r.ID), Detail: map[string]string{"unit": e.Unit, "property": e.Property}})
}

// newLock fills a new lock's backup pool and gives everyone already living
// in its unit an access code on it.
func newLock(ctx context.Context, tx sparekey.Tx, codes Codes, lock *sparekey.Lock) error {
	if err := codes.ProvisionLock(ctx, tx, lock); err != nil {
		return err
	}
	residents, err := tx.ResidentsByUnit(ctx, lock.UnitID)
	if err != nil {
		return err
	}
	for _, r := range residents {
		if !r.Active() {
			continue
		}
		if _, err := codes.AssignResidentCode(ctx, tx, lock, r, ""); err != nil {
			return err
		}
	}
	return nil
}

// fieldError is a problem with one field of one entry.
func fieldError(field, msg string) error {
	return sparekey.Errorf(sparekey.EINVALID, "%s: %s", field, msg)
}
