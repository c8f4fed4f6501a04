package testkit

import (
	"context"
	"slices"
	"testing"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/pgtest"
	"sparekey/roster"
	"sparekey/secret"
	"sparekey/sim"
	"sparekey/store"
)

// DB is a fresh real store for one test: a SQLite file, or a PostgreSQL
// schema of its own when SPAREKEY_TEST_STORE=postgres (see pgtest). Its
// helpers fail the test on any error, so a test reads what it checks in
// one line.
type DB struct {
	*store.DB
	DSN  string
	Keys *secret.Keyring
}

// OpenDB opens a fresh store with the test keys, closed when the test ends.
func OpenDB(t testing.TB) *DB {
	t.Helper()
	dsn, keys := pgtest.DSN(t), secret.ForTest()
	db, err := store.Open(context.Background(), dsn, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &DB{DB: db, DSN: dsn, Keys: keys}
}

// MustRead runs fn in a read transaction.
func (d *DB) MustRead(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	if err := d.Read(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// MustWrite runs fn in a committed transaction.
func (d *DB) MustWrite(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	if err := d.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// read returns what get reads in a read transaction.
func read[T any](t testing.TB, d *DB, get func(context.Context, sparekey.Tx) (T, error)) T {
	t.Helper()
	var v T
	d.MustRead(t, func(tx sparekey.Tx) (err error) {
		v, err = get(context.Background(), tx)
		return err
	})
	return v
}

// Lock is the lock with the device name.
func (d *DB) Lock(t testing.TB, device string) *sparekey.Lock {
	t.Helper()
	return read(t, d, func(ctx context.Context, tx sparekey.Tx) (*sparekey.Lock, error) { return tx.LockByDevice(ctx, device) })
}

// Slots are the lock's slots by number.
func (d *DB) Slots(t testing.TB, device string) []*sparekey.Slot {
	t.Helper()
	return read(t, d, func(ctx context.Context, tx sparekey.Tx) ([]*sparekey.Slot, error) {
		l, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return nil, err
		}
		return tx.SlotsByLock(ctx, l.ID)
	})
}

// Resident is the resident with the email, moved out or not.
func (d *DB) Resident(t testing.TB, email string) *sparekey.Resident {
	t.Helper()
	return read(t, d, func(ctx context.Context, tx sparekey.Tx) (*sparekey.Resident, error) {
		return tx.ResidentByEmail(ctx, email)
	})
}

// Messages is the whole outbox, oldest first.
func (d *DB) Messages(t testing.TB) []*sparekey.Message {
	t.Helper()
	ms := read(t, d, func(ctx context.Context, tx sparekey.Tx) ([]*sparekey.Message, error) { return tx.Messages(ctx, "", 0) })
	slices.Reverse(ms)
	return ms
}

// Audit is the whole audit trail, oldest first.
func (d *DB) Audit(t testing.TB) []*sparekey.AuditEvent {
	t.Helper()
	evs := read(t, d, func(ctx context.Context, tx sparekey.Tx) ([]*sparekey.AuditEvent, error) {
		return tx.AuditEvents(ctx, 0)
	})
	slices.Reverse(evs)
	return evs
}

// AuditOf is the audit trail's lines with the action, oldest first.
func (d *DB) AuditOf(t testing.TB, action string) []*sparekey.AuditEvent {
	t.Helper()
	var out []*sparekey.AuditEvent
	for _, e := range d.Audit(t) {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// WantCode fails the test unless err carries the error code.
func WantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := sparekey.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q, want %q (err: %v)", what, got, code, err)
	}
}

// Allow is a staff member's property filter that lets only ids through.
func Allow(ids ...int64) func(int64) bool {
	return func(id int64) bool { return slices.Contains(ids, id) }
}

// Demo seeds the demo roster (docs/api.md) on db through an access service
// made from cfg, its Store, Driver and Clock filled in, and gives every demo
// lock a virtual lock that reports back to that service. Nothing is on the
// locks yet: the Reconciler's RunOnce programs them.
func Demo(t testing.TB, db *DB, clock sparekey.Clock, cfg access.Config) (*sim.Fleet, *access.Service) {
	t.Helper()
	fleet := sim.New(clock)
	cfg.Store, cfg.Driver, cfg.Clock = db, fleet, clock
	acc := access.New(cfg)
	fleet.Subscribe(func(ev sparekey.DeviceEvent) {
		if err := acc.Recorder.HandleEvent(context.Background(), ev); err != nil {
			t.Errorf("HandleEvent(%+v): %v", ev, err)
		}
	})
	if seeded, err := roster.SeedDemo(context.Background(), db, acc.Codes, clock); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	for _, e := range roster.Demo {
		fleet.Add(e.Lock, roster.DefaultSlotCount)
	}
	return fleet, acc
}
