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
	b.addSimLocks(t)
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
	return &testBundle{ctx: ctx, db: db, clock: clock, fleet: fleet, svc: svc, cfg: cfg}
}

// addSimLocks adds a virtual lock for every lock in the database and
// reports it online with its state and battery.
func (b *testBundle) addSimLocks(t testing.TB) {
	t.Helper()
	for _, l := range b.locks(t) {
		b.fleet.Add(l.Device, l.SlotCount)
		st, err := b.fleet.Status(l.Device)
		if err != nil {
			t.Fatal(err)
		}
		ev := sparekey.DeviceEvent{Device: l.Device, Kind: sparekey.EventOnline, At: b.clock.Now(), Slot: -1, State: st.State, Battery: st.Battery}
		if err := b.svc.Recorder.HandleEvent(b.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
}

func (b *testBundle) read(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	b.db.MustRead(t, fn)
}
func (b *testBundle) write(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	b.db.MustWrite(t, fn)
}

func (b *testBundle) locks(t testing.TB) []*sparekey.Lock {
	t.Helper()
	var locks []*sparekey.Lock
	b.read(t, func(tx sparekey.Tx) (err error) {
		locks, err = tx.Locks(b.ctx)
		return err
	})
	return locks
}

func (b *testBundle) lock(t testing.TB, device string) *sparekey.Lock {
	t.Helper()
	return b.db.Lock(t, device)
}
func (b *testBundle) slots(t testing.TB, device string) []*sparekey.Slot {
	t.Helper()
	return b.db.Slots(t, device)
}

func (b *testBundle) slot(t testing.TB, device string, number int) *sparekey.Slot {
	t.Helper()
	for _, sl := range b.slots(t, device) {
		if sl.Number == number {
			return sl
		}
	}
	t.Fatalf("%s has no slot %d", device, number)
	return nil
}

// pool returns the lock's backup slots.
func (b *testBundle) pool(t testing.TB, device string) []*sparekey.Slot {
	t.Helper()
	var pool []*sparekey.Slot
	for _, sl := range b.slots(t, device) {
		if sl.Purpose == sparekey.SlotBackup {
			pool = append(pool, sl)
		}
	}
	return pool
}

func (b *testBundle) resident(t testing.TB, email string) *sparekey.Resident {
	t.Helper()
	return b.db.Resident(t, email)
}

// issue gives the resident backup codes, as the lockout flow does.
func (b *testBundle) issue(t testing.TB, email string) []*sparekey.Slot {
	t.Helper()
	r := b.resident(t, email)
	var issued []*sparekey.Slot
	b.write(t, func(tx sparekey.Tx) (err error) {
		issued, err = b.svc.Codes.IssueBackupCodes(b.ctx, tx, r)
		return err
	})
	return issued
}

func (b *testBundle) runOnce(t testing.TB) int {
	t.Helper()
	n, err := b.svc.Reconciler.RunOnce(b.ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// audits returns the audit trail, oldest first; auditsOf the lines with
// the given action.
func (b *testBundle) audits(t testing.TB) []*sparekey.AuditEvent { t.Helper(); return b.db.Audit(t) }
func (b *testBundle) auditsOf(t testing.TB, action string) []*sparekey.AuditEvent {
	t.Helper()
	return b.db.AuditOf(t, action)
}

// lockEvents returns what the lock reported, oldest first.
func (b *testBundle) lockEvents(t testing.TB, device string) []*sparekey.LockEvent {
	t.Helper()
	l := b.lock(t, device)
	var events []*sparekey.LockEvent
	b.read(t, func(tx sparekey.Tx) (err error) {
		events, err = tx.LockEvents(b.ctx, l.ID, 0)
		return err
	})
	slices.Reverse(events)
	return events
}

// desired returns the codes the database wants on the lock, by slot.
func (b *testBundle) desired(t testing.TB, device string) map[int]string {
	t.Helper()
	m := map[int]string{}
	for _, sl := range b.slots(t, device) {
		if sl.Code != "" {
			m[sl.Number] = sl.Code
		}
	}
	return m
}

func (b *testBundle) keypad(t testing.TB, device, code string) string {
	t.Helper()
	res, err := b.fleet.Keypad(device, code)
	if err != nil {
		t.Fatal(err)
	}
	return res.Result
}

func (b *testBundle) setState(t testing.TB, device string, change sim.StateChange) {
	t.Helper()
	if err := b.fleet.SetState(device, change); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) lockInfo(t testing.TB, device string) *access.LockInfo {
	t.Helper()
	info, err := b.svc.Doors.LockInfo(b.ctx, device)
	if err != nil {
		t.Fatal(err)
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
