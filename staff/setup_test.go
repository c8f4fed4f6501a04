package staff_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
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

var visit = staff.Visit{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (staff test)"}

// passwordHash is the hash of password, made once: argon2id takes tens of
// milliseconds, and most tests need an account, not a new hash.
var passwordHash = sync.OnceValue(func() string {
	h, err := staff.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// testBundle is the staff service on a real store holding two properties:
// the demo's Maple Court and Birch Hall.
type testBundle struct {
	ctx   context.Context
	db    *testkit.DB
	keys  sparekey.Keyring
	clock *sparekey.OffsetClock
	cfg   staff.Config
	svc   *staff.Service
	maple *sparekey.Property
	birch *sparekey.Property
}

func setup(t *testing.T, opts ...func(*staff.Config)) *testBundle {
	t.Helper()
	b := bare(t, opts...)
	acc := access.New(access.Config{Store: b.db, Driver: sim.New(b.clock), Clock: b.clock}).Codes
	if seeded, err := roster.SeedDemo(b.ctx, b.db, acc, b.clock); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	err := roster.Add(b.ctx, b.db, acc, b.clock, []roster.Entry{{Property: birch, Unit: "1A", Lock: dee1a,
		Name: "Dee Park", Email: "dee@example.com", Phone: "+12015550104"}})
	if err != nil {
		t.Fatal(err)
	}
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		if b.maple, err = tx.PropertyByName(b.ctx, testkit.Maple); err != nil {
			return err
		}
		b.birch, err = tx.PropertyByName(b.ctx, birch)
		return err
	})
	return b
}

// bare is setup with an empty store.
func bare(t *testing.T, opts ...func(*staff.Config)) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	db := testkit.OpenDB(t)
	keys := db.Keys
	clock := sparekey.NewFixedClock(testkit.T0)
	b := &testBundle{ctx: ctx, db: db, keys: keys, clock: clock}
	b.cfg = staff.Config{Store: db, Keys: keys, Clock: clock}
	for _, o := range opts {
		o(&b.cfg)
	}
	b.svc = staff.New(b.cfg)
	return b
}

// account creates an account whose password is password, straight in the
// store (no new hash), working for the given properties.
func (b *testBundle) account(t *testing.T, email string, role sparekey.StaffRole, properties ...int64) *sparekey.Staff {
	t.Helper()
	st := &sparekey.Staff{Email: email, Name: email, Role: role, PasswordHash: passwordHash(),
		Properties: properties, CreatedAt: b.clock.Now()}
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.CreateStaff(b.ctx, st) })
	return st
}

func (b *testBundle) staff(t *testing.T, id int64) *sparekey.Staff {
	t.Helper()
	var st *sparekey.Staff
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		st, err = tx.Staff(b.ctx, id)
		return err
	})
	return st
}

func (b *testBundle) signIn(t *testing.T, email, pw string) (string, *sparekey.Staff) {
	t.Helper()
	token, st, err := b.svc.SignIn(b.ctx, email, pw, visit)
	if err != nil {
		t.Fatalf("SignIn(%q): %v", email, err)
	}
	return token, st
}

var (
	wantCode = testkit.WantCode
	allow    = testkit.Allow
)
