package access_test

import (
	"context"
	"slices"
	"testing"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/roster"
	"sparekey/sim"
)

// testBundle is one service on a real SQLite store, driving a simulated
// fleet that reports back to it, on a clock that moves only when told.
type testBundle struct {
	t     *testing.T
	ctx   context.Context
	db    *testkit.DB
	clock *sparekey.OffsetClock
	fleet *sim.Fleet
	svc   *access.Service
	cfg   access.Config
}

type option func(*access.Config, *sim.Fleet)

// withDriver puts a driver made from the fleet between the service and it.
func withDriver(wrap func(*sim.Fleet) sparekey.LockDriver) option {
	return func(c *access.Config, f *sim.Fleet) { c.Driver = wrap(f) }
}

func withConfig(fn func(*access.Config)) option {
	return func(c *access.Config, _ *sim.Fleet) { fn(c) }
}

// setup opens a fresh store, seeds the demo roster through the service,
// gives every lock in the database a virtual lock subscribed to the service
// and announces the locks online, as serve --demo does. Nothing is on the
// locks yet: their slots are pending.
func setup(t *testing.T, opts ...option) *testBundle {
	t.Helper()
	b := bare(t, opts...)
	seeded, err := roster.SeedDemo(b.ctx, b.db, b.svc.Codes, b.clock)
	if err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	b.addSimLocks()
	return b
}

// bare is setup without any data.
func bare(t *testing.T, opts ...option) *testBundle {
	t.Helper()
	ctx := t.Context()
	db := testkit.OpenDB(t)
	clock := sparekey.NewFixedClock(testkit.T0)
	fleet := sim.New(clock)
	cfg := access.Config{Store: db, Driver: fleet, Clock: clock}
	for _, o := range opts {
		o(&cfg, fleet)
	}
	svc := access.New(cfg)
	fleet.Subscribe(func(ev sparekey.DeviceEvent) {
		if err := svc.Recorder.HandleEvent(ctx, ev); err != nil {
			t.Errorf("HandleEvent(%+v): %v", ev, err)
		}
	})
	return &testBundle{t: t, ctx: ctx, db: db, clock: clock, fleet: fleet, svc: svc, cfg: cfg}
}

// addSimLocks adds a virtual lock for every lock in the database and
// reports it online with its state and battery.
func (b *testBundle) addSimLocks() {
	b.t.Helper()
	for _, l := range b.locks() {
		b.fleet.Add(l.Device, l.SlotCount)
		st, err := b.fleet.Status(l.Device)
		if err != nil {
			b.t.Fatal(err)
		}
		ev := sparekey.DeviceEvent{Device: l.Device, Kind: sparekey.EventOnline, At: b.clock.Now(), Slot: -1, State: st.State, Battery: st.Battery}
		if err := b.svc.Recorder.HandleEvent(b.ctx, ev); err != nil {
			b.t.Fatal(err)
		}
	}
}

func (b *testBundle) read(fn func(tx sparekey.Tx) error)  { b.t.Helper(); b.db.MustRead(b.t, fn) }
func (b *testBundle) write(fn func(tx sparekey.Tx) error) { b.t.Helper(); b.db.MustWrite(b.t, fn) }

func (b *testBundle) locks() []*sparekey.Lock {
	b.t.Helper()
	var locks []*sparekey.Lock
	b.read(func(tx sparekey.Tx) (err error) {
		locks, err = tx.Locks(b.ctx)
		return err
	})
	return locks
}

func (b *testBundle) lock(device string) *sparekey.Lock { b.t.Helper(); return b.db.Lock(b.t, device) }
func (b *testBundle) slots(device string) []*sparekey.Slot {
	b.t.Helper()
	return b.db.Slots(b.t, device)
}

func (b *testBundle) slot(device string, number int) *sparekey.Slot {
	b.t.Helper()
	for _, sl := range b.slots(device) {
		if sl.Number == number {
			return sl
		}
	}
	b.t.Fatalf("%s has no slot %d", device, number)
	return nil
}

// pool returns the lock's backup slots.
func (b *testBundle) pool(device string) []*sparekey.Slot {
	b.t.Helper()
	var pool []*sparekey.Slot
	for _, sl := range b.slots(device) {
		if sl.Purpose == sparekey.SlotBackup {
			pool = append(pool, sl)
		}
	}
	return pool
}

func (b *testBundle) resident(email string) *sparekey.Resident {
	b.t.Helper()
	return b.db.Resident(b.t, email)
}

// issue gives the resident backup codes, as the lockout flow does.
func (b *testBundle) issue(email string) []*sparekey.Slot {
	b.t.Helper()
	r := b.resident(email)
	var issued []*sparekey.Slot
	b.write(func(tx sparekey.Tx) (err error) {
		issued, err = b.svc.Codes.IssueBackupCodes(b.ctx, tx, r)
		return err
	})
	return issued
}

func (b *testBundle) runOnce() int {
	b.t.Helper()
	n, err := b.svc.Reconciler.RunOnce(b.ctx)
	if err != nil {
		b.t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// audits returns the audit trail, oldest first; auditsOf the lines with
// the given action.
func (b *testBundle) audits() []*sparekey.AuditEvent { b.t.Helper(); return b.db.Audit(b.t) }
func (b *testBundle) auditsOf(action string) []*sparekey.AuditEvent {
	b.t.Helper()
	return b.db.AuditOf(b.t, action)
}

// lockEvents returns what the lock reported, oldest first.
func (b *testBundle) lockEvents(device string) []*sparekey.LockEvent {
	b.t.Helper()
	l := b.lock(device)
	var events []*sparekey.LockEvent
	b.read(func(tx sparekey.Tx) (err error) {
		events, err = tx.LockEvents(b.ctx, l.ID, 0)
		return err
	})
	slices.Reverse(events)
	return events
}

// desired returns the codes the database wants on the lock, by slot.
func (b *testBundle) desired(device string) map[int]string {
	b.t.Helper()
	m := map[int]string{}
	for _, sl := range b.slots(device) {
		if sl.Code != "" {
			m[sl.Number] = sl.Code
		}
	}
	return m
}

func (b *testBundle) keypad(device, code string) string {
	b.t.Helper()
	res, err := b.fleet.Keypad(device, code)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.Result
}

func (b *testBundle) setState(device string, change sim.StateChange) {
	b.t.Helper()
	if err := b.fleet.SetState(device, change); err != nil {
		b.t.Fatal(err)
	}
}

func (b *testBundle) lockInfo(device string) *access.LockInfo {
	b.t.Helper()
	info, err := b.svc.Doors.LockInfo(b.ctx, device)
	if err != nil {
		b.t.Fatal(err)
	}
	return info
}

func ptr[T any](v T) *T { return &v }

// Changes the world makes to a virtual lock.
var (
	offline = sim.StateChange{Online: ptr(false)}
	online  = sim.StateChange{Online: ptr(true)}
	jam     = sim.StateChange{Jammed: ptr(true)}
	unjam   = sim.StateChange{Jammed: ptr(false)}
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	testkit.WantCode(t, "error", err, code)
}

var sameList = testkit.SameList
