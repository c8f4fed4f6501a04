package roster

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"sparekey"
	"sparekey/contact"
	"sparekey/locale"
)

// Directory is the console's view of who lives where: it lists a
// property's units with their residents and locks, and moves residents in
// (one by one or from a CSV file) and out, for staff of that property.
type Directory struct {
	Store   sparekey.Store
	Codes   Codes
	Mover   Mover
	Clock   sparekey.Clock
	Region  string // default region for phone numbers, e.g. US
	BaseURL string // for the links in a welcome email
	Queued  func() // wakes the outbox after a welcome was queued; may be nil
}

// UnitListing is one unit with its people and doors.
type UnitListing struct {
	Unit      *sparekey.Unit
	Residents []*sparekey.Resident // active first, then moved out
	Locks     []*sparekey.Lock
}

// Units lists a property's units with their residents and locks.
func (d *Directory) Units(ctx context.Context, propertyID int64) ([]UnitListing, error) {
	var out []UnitListing
	err := d.Store.Read(ctx, func(tx sparekey.Tx) error {
		units, err := tx.Units(ctx, propertyID)
		if err != nil {
			return err
		}
		for _, u := range units {
			rs, err := tx.ResidentsByUnit(ctx, u.ID)
			if err != nil {
				return err
			}
			locks, err := tx.LocksByUnit(ctx, u.ID)
			if err != nil {
				return err
			}
			active := make([]*sparekey.Resident, 0, len(rs))
			var gone []*sparekey.Resident
			for _, r := range rs {
				if r.Active() {
					active = append(active, r)
				} else {
					gone = append(gone, r)
				}
			}
			out = append(out, UnitListing{Unit: u, Residents: append(active, gone...), Locks: locks})
		}
		return nil
	})
	return out, err
}

// Newcomer is a resident moving into a unit.
type Newcomer struct {
	PropertyID int64
	Unit       string // an existing unit's name
	Name       string
	Email      string // as typed
	Phone      string // as typed
	Welcome    bool   // email them how to see their code and what to do when locked out
}

// MoveIn adds a resident to an existing unit of the property, with an
// access code on each of its locks.
func (d *Directory) MoveIn(ctx context.Context, n Newcomer, actor string) (*sparekey.Resident, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" || len(name) > 200 {
		return nil, sparekey.Errorf(sparekey.EINVALID, "Give the resident's name (up to 200 characters).")
	}
	email, phone, err := d.contacts(n.Email, n.Phone)
	if err != nil {
		return nil, err
	}
	var r *sparekey.Resident
	err = d.Store.Tx(ctx, func(tx sparekey.Tx) error {
		prop, err := tx.Property(ctx, n.PropertyID)
		if err != nil {
			return err
		}
		unit, err := tx.UnitByName(ctx, prop.ID, strings.TrimSpace(n.Unit))
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			return sparekey.Errorf(sparekey.EINVALID, "%s has no unit %q.", prop.Name, n.Unit)
		} else if err != nil {
			return err
		}
		locks, err := tx.LocksByUnit(ctx, unit.ID)
		if err != nil {
			return err
		}
		if len(locks) == 0 {
			return sparekey.Errorf(sparekey.EINVALID, "Unit %s has no lock yet: import it with its lock first.", unit.Name)
		}
		e := Entry{Property: prop.Name, Unit: unit.Name, Lock: locks[0].Device, Name: name, Email: email, Phone: phone}
		if err := add(ctx, tx, d.Codes, d.Clock.Now(), actor, e); err != nil {
			return err
		}
		if r, err = tx.ResidentByEmail(ctx, email); err != nil || !n.Welcome {
			return err
		}
		return d.welcome(ctx, tx, email)
	})
	if err == nil && n.Welcome && d.Queued != nil {
		d.Queued()
	}
	return r, err
}

// welcome queues the email a new resident gets when staff move them in:
// where their code is, and the way back in when it fails.
func (d *Directory) welcome(ctx context.Context, tx sparekey.Tx, email string) error {
	r, err := tx.ResidentByEmail(ctx, email)
	if err != nil {
		return err
	}
	where, err := locale.PlaceOf(ctx, tx, r.UnitID)
	if err != nil {
		return err
	}
	locks, err := tx.LocksByUnit(ctx, r.UnitID)
	if err != nil || len(locks) == 0 {
		return err
	}
	// In English: a roster says nothing of the language a resident reads.
	subject, body, err := locale.Email(locale.English, "welcome", map[string]any{"Name": r.FirstName(), "Unit": where.Unit.Name,
		"Property": where.Property.Name, "Lock": locks[0].Name, "Base": strings.TrimRight(d.BaseURL, "/")})
	if err != nil {
		return err
	}
	return sparekey.QueueMessage(ctx, tx, d.Clock.Now(), fmt.Sprintf("resident:%d", r.ID),
		&sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email, Subject: subject, Body: body, Kind: "welcome"})
}

func (d *Directory) contacts(email, phone string) (string, string, error) {
	ek, e, err := contact.Parse(strings.TrimSpace(email), d.Region)
	if err != nil || ek != sparekey.ContactEmail {
		return "", "", sparekey.Errorf(sparekey.EINVALID, "%q is not an email address.", email)
	}
	pk, p, err := contact.Parse(strings.TrimSpace(phone), d.Region)
	if err != nil || pk != sparekey.ContactPhone {
		return "", "", sparekey.Errorf(sparekey.EINVALID, "%q is not a valid phone number.", phone)
	}
	if contact.Costly(p) {
		return "", "", sparekey.Errorf(sparekey.EINVALID, "%q is a premium-rate or shared-cost number: never a resident's phone. Give their own mobile number.", phone)
	}
	return e, p, nil
}

// Import adds every resident of a roster CSV, or none: each row is checked
// before anything is written, and every row's property must be one of
// allowed (the staff member's properties). With welcome, each new resident
// is emailed a welcome, as from MoveIn. It returns how many were added.
func (d *Directory) Import(ctx context.Context, r io.Reader, allowed func(propertyID int64) bool, actor string, welcome bool) (int, error) {
	entries, err := ParseCSV(r, d.Region)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, sparekey.Errorf(sparekey.EINVALID, "The file has no residents in it.")
	}
	err = d.Store.Tx(ctx, func(tx sparekey.Tx) error {
		perProperty := map[int64]int{}
		for _, e := range entries {
			prop, err := tx.PropertyByName(ctx, e.Property)
			if sparekey.ErrorCode(err) == sparekey.ENOTFOUND || (err == nil && !allowed(prop.ID)) {
				return sparekey.Errorf(sparekey.EINVALID, "line %d: property: %q is not a property you manage", e.Line, e.Property)
			} else if err != nil {
				return err
			}
			perProperty[prop.ID]++
		}
		if err := d.addAll(ctx, tx, entries, actor, welcome); err != nil {
			return err
		}
		// A line per property, so each property's staff see the import.
		for _, id := range slices.Sorted(maps.Keys(perProperty)) {
			if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: d.Clock.Now(), Actor: actor, Action: "roster.imported",
				Subject: fmt.Sprintf("property:%d", id), Detail: map[string]string{"residents": fmt.Sprint(perProperty[id])}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if welcome && d.Queued != nil {
		d.Queued()
	}
	return len(entries), nil
}

// Add writes every entry in one transaction, as the package's Add does,
// on behalf of actor; with welcome, each new resident is emailed a
// welcome (BaseURL must be set), sent when the outbox next runs.
func (d *Directory) Add(ctx context.Context, entries []Entry, actor string, welcome bool) error {
	err := d.Store.Tx(ctx, func(tx sparekey.Tx) error { return d.addAll(ctx, tx, entries, actor, welcome) })
	if err == nil && welcome && d.Queued != nil {
		d.Queued()
	}
	return err
}

func (d *Directory) addAll(ctx context.Context, tx sparekey.Tx, entries []Entry, actor string, welcome bool) error {
	if err := addAll(ctx, tx, d.Codes, d.Clock.Now(), actor, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if !welcome {
			break
		}
		if err := d.welcome(ctx, tx, e.Email); err != nil {
			return err
		}
	}
	return nil
}
