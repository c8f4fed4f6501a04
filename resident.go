package sparekey

import (
	"context"
	"strings"
	"time"
)

// Resident lives in a unit. Email is lower-cased, Phone is E.164; both were
// validated when the resident was created.
type Resident struct {
	ID         int64
	UnitID     int64
	Name       string
	Email      string
	Phone      string
	CreatedAt  time.Time
	MovedOutAt *time.Time // nil while the resident lives there
}

// Active reports whether the resident still lives in the unit.
func (r *Resident) Active() bool { return r.MovedOutAt == nil }

// FirstName is what messages and pages call the resident: the first word
// of their name, or "there" ("Hi there") when it is blank.
func (r *Resident) FirstName() string {
	if f := strings.Fields(r.Name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

// ResidentStore keeps residents.
type ResidentStore interface {
	CreateResident(ctx context.Context, r *Resident) error
	Resident(ctx context.Context, id int64) (*Resident, error)
	// ResidentByContactHash finds the active resident whose email or phone
	// hashes (Keyring.Hash(HashContact, …)) to hash.
	ResidentByContactHash(ctx context.Context, kind ContactKind, hash string) (*Resident, error)
	// ResidentByEmail finds a resident, active or not, by normalized email.
	ResidentByEmail(ctx context.Context, email string) (*Resident, error)
	// ResidentByPhone finds the active resident with this E.164 phone.
	ResidentByPhone(ctx context.Context, phone string) (*Resident, error)
	ResidentsByUnit(ctx context.Context, unitID int64) ([]*Resident, error)
	UpdateResident(ctx context.Context, r *Resident) error
}
