package audit_test

import (
	"context"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/audit"
	"sparekey/internal/testkit"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/staff"
)

const (
	birch    = "Birch Hall" // a second property, its own team
	dee1a    = "birch-1a-front"
	password = "correct horse battery staple"
)

// testBundle is the audit log on a real store holding two properties, the
// demo's Maple Court and Birch Hall, with the staff service that writes
// sign-ins to it.
type testBundle struct {
	ctx   context.Context
	db    *testkit.DB
	clock *sparekey.OffsetClock
	log   *audit.Log
	staff *staff.Service
	maple *sparekey.Property
	birch *sparekey.Property
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	db := testkit.OpenDB(t)
	clock := sparekey.NewFixedClock(testkit.T0)
	b := &testBundle{ctx: ctx, db: db, clock: clock, log: audit.New(db),
		staff: staff.New(staff.Config{Store: db, Keys: db.Keys, Clock: clock})}
	codes := access.New(access.Config{Store: db, Driver: sim.New(clock), Clock: clock}).Codes
	if seeded, err := roster.SeedDemo(ctx, db, codes, clock); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	err := roster.Add(ctx, db, codes, clock, []roster.Entry{{Property: birch, Unit: "1A", Lock: dee1a,
		Name: "Dee Park", Email: "dee@example.com", Phone: "+12015550104"}})
	if err != nil {
		t.Fatal(err)
	}
	db.MustRead(t, func(tx sparekey.Tx) (err error) {
		if b.maple, err = tx.PropertyByName(ctx, testkit.Maple); err != nil {
			return err
		}
		b.birch, err = tx.PropertyByName(ctx, birch)
		return err
	})
	return b
}

// account creates an account whose password is password, straight in the
// store, working for the given properties.
func (b *testBundle) account(t *testing.T, email string, role sparekey.StaffRole, properties ...int64) *sparekey.Staff {
	t.Helper()
	hash, err := staff.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	st := &sparekey.Staff{Email: email, Name: email, Role: role, PasswordHash: hash, Properties: properties, CreatedAt: b.clock.Now()}
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.CreateStaff(b.ctx, st) })
	return st
}

func (b *testBundle) signIn(t *testing.T, email, pw string) {
	t.Helper()
	if _, _, err := b.staff.SignIn(b.ctx, email, pw, staff.Visit{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (audit test)"}); err != nil {
		t.Fatalf("SignIn(%q): %v", email, err)
	}
}

var allow = testkit.Allow
