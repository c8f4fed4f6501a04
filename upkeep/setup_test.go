package upkeep_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/upkeep"
)

// A second property, added by secondProperty, besides the demo's (whose
// residents, locks and maintenance contacts are testkit's).
const (
	birch      = "Birch Hall"
	dee        = "dee@example.com"
	dee1a      = "birch-1a-front"
	birchPhone = "+12015550299"
	birchMail  = "fix@birch.example"
)

const baseURL = "https://sparekey.test"

// testBundle is the upkeep service watching the access service's lock
// reports, as serve wires them, on a real store seeded with the demo
// roster, on a clock that moves only when told.
type testBundle struct {
	ctx    context.Context
	db     *testkit.DB
	clock  *sparekey.OffsetClock
	access *access.Service
	svc    *upkeep.Service
	cfg    upkeep.Config
	queued *atomic.Int64 // calls of Config.Queued

	mu     sync.Mutex
	opened []string // sources passed to Config.Opened
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	// A deadline turns a stuck store into a failure instead of a hung test.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	db := testkit.OpenDB(t)
	clock := sparekey.NewFixedClock(testkit.T0)
	b := &testBundle{ctx: ctx, db: db, clock: clock, queued: &atomic.Int64{}}
	b.cfg = upkeep.Config{
		Store:   db,
		Clock:   clock,
		BaseURL: baseURL + "/",
		Queued:  func() { b.queued.Add(1) },
		Opened: func(source string) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.opened = append(b.opened, source)
		},
	}
	b.svc = upkeep.New(b.cfg)
	b.access = access.New(access.Config{Store: db, Driver: sim.New(clock), Clock: clock, Observers: []sparekey.LockObserver{b.svc}})
	if seeded, err := roster.SeedDemo(ctx, db, b.access.Codes, clock); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	for _, e := range roster.Demo {
		b.event(t, sparekey.DeviceEvent{Device: e.Lock, Kind: sparekey.EventBattery, Battery: 87})
	}
	return b
}

// secondProperty adds Birch Hall with one resident and lock, and its own
// maintenance contacts; it returns the property.
func (b *testBundle) secondProperty(t testing.TB) *sparekey.Property {
	t.Helper()
	err := roster.Add(b.ctx, b.db, b.access.Codes, b.clock, []roster.Entry{{Property: birch, Unit: "1A", Lock: dee1a,
		Name: "Dee Park", Email: dee, Phone: "+12015550104"}})
	if err != nil {
		t.Fatal(err)
	}
	var p *sparekey.Property
	b.write(t, func(tx sparekey.Tx) (err error) {
		if p, err = tx.PropertyByName(b.ctx, birch); err != nil {
			return err
		}
		p.MaintenancePhone, p.MaintenanceEmail = birchPhone, birchMail
		return tx.UpdateProperty(b.ctx, p)
	})
	return p
}

// event records a lock report the way the MQTT adapter does, stamped now
// unless it says when.
func (b *testBundle) event(t testing.TB, ev sparekey.DeviceEvent) {
	t.Helper()
	if ev.At.IsZero() {
		ev.At = b.clock.Now()
	}
	if ev.Kind != sparekey.EventKeypadUnlock && ev.Slot == 0 {
		ev.Slot = -1
	}
	if ev.Battery == 0 && ev.Kind != sparekey.EventBattery {
		ev.Battery = -1
	}
	if err := b.access.Recorder.HandleEvent(b.ctx, ev); err != nil {
		t.Fatalf("HandleEvent(%+v): %v", ev, err)
	}
}

// report records that the lock reported kind from source.
func (b *testBundle) report(t testing.TB, device string, kind sparekey.DeviceEventKind, source string) {
	t.Helper()
	b.event(t, sparekey.DeviceEvent{Device: device, Kind: kind, Source: source})
}

func (b *testBundle) jam(t testing.TB, device string) {
	t.Helper()
	b.report(t, device, sparekey.EventJammed, "")
}

func (b *testBundle) clear(t testing.TB, device string) {
	t.Helper()
	b.report(t, device, sparekey.EventJamCleared, "")
}

// jamCleared makes the lock jam, stay jammed for five minutes and clear,
// and moves the clock on by gap after it.
func (b *testBundle) jamCleared(t testing.TB, device string, gap time.Duration) {
	t.Helper()
	b.jam(t, device)
	b.clock.Advance(5 * time.Minute)
	b.clear(t, device)
	b.clock.Advance(gap)
}

func (b *testBundle) read(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	b.db.MustRead(t, fn)
}
func (b *testBundle) write(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	b.db.MustWrite(t, fn)
}
func (b *testBundle) lock(t testing.TB, device string) *sparekey.Lock {
	t.Helper()
	return b.db.Lock(t, device)
}

func (b *testBundle) property(t testing.TB, name string) *sparekey.Property {
	t.Helper()
	var p *sparekey.Property
	b.read(t, func(tx sparekey.Tx) (err error) {
		p, err = tx.PropertyByName(b.ctx, name)
		return err
	})
	return p
}

func (b *testBundle) maple(t testing.TB) *sparekey.Property {
	t.Helper()
	return b.property(t, roster.Demo[0].Property)
}

func (b *testBundle) resident(t testing.TB, email string) *sparekey.Resident {
	t.Helper()
	return b.db.Resident(t, email)
}

// orders returns the lock's work orders, oldest first.
func (b *testBundle) orders(t testing.TB, device string) []*sparekey.WorkOrder {
	t.Helper()
	l := b.lock(t, device)
	var out []*sparekey.WorkOrder
	b.read(t, func(tx sparekey.Tx) (err error) {
		out, err = tx.WorkOrders(b.ctx, sparekey.WorkOrderFilter{LockID: l.ID})
		return err
	})
	slices.Reverse(out)
	return out
}

// only returns the lock's one work order, failing the test unless there is
// exactly one.
func (b *testBundle) only(t testing.TB, device string) *sparekey.WorkOrder {
	t.Helper()
	orders := b.orders(t, device)
	if len(orders) != 1 {
		t.Fatalf("%s has %d work orders, want 1: %+v", device, len(orders), orders)
	}
	return orders[0]
}

func (b *testBundle) order(t testing.TB, id int64) *sparekey.WorkOrder {
	t.Helper()
	var wo *sparekey.WorkOrder
	b.read(t, func(tx sparekey.Tx) (err error) {
		wo, err = tx.WorkOrder(b.ctx, id)
		return err
	})
	return wo
}

// notes returns the work order's timeline, oldest first.
func (b *testBundle) notes(t testing.TB, id int64) []*sparekey.WorkOrderNote {
	t.Helper()
	var out []*sparekey.WorkOrderNote
	b.read(t, func(tx sparekey.Tx) (err error) {
		out, err = tx.WorkOrderNotes(b.ctx, id)
		return err
	})
	return out
}

// notesOf returns the work order's notes of a kind, oldest first.
func (b *testBundle) notesOf(t testing.TB, id int64, kind string) []*sparekey.WorkOrderNote {
	t.Helper()
	var out []*sparekey.WorkOrderNote
	for _, n := range b.notes(t, id) {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// kinds lists the kinds of the work order's notes, oldest first.
func (b *testBundle) kinds(t testing.TB, id int64) []string {
	t.Helper()
	var out []string
	for _, n := range b.notes(t, id) {
		out = append(out, n.Kind)
	}
	return out
}

// jams returns every jam of the lock, newest first.
func (b *testBundle) jams(t testing.TB, device string) []*sparekey.Jam {
	t.Helper()
	l := b.lock(t, device)
	var out []*sparekey.Jam
	b.read(t, func(tx sparekey.Tx) (err error) {
		out, err = tx.JamsSince(b.ctx, l.ID, time.Time{}, 0)
		return err
	})
	return out
}

// messages returns the outbox, oldest first.
func (b *testBundle) messages(t testing.TB) []*sparekey.Message { t.Helper(); return b.db.Messages(t) }

// sent summarizes the outbox's messages whose kind starts with prefix as
// "kind channel:recipient", oldest first.
func (b *testBundle) sent(t testing.TB, prefix string) []string {
	t.Helper()
	out := []string{}
	for _, m := range b.messages(t) {
		if strings.HasPrefix(m.Kind, prefix) {
			out = append(out, m.Kind+" "+string(m.Channel)+":"+m.To)
		}
	}
	return out
}

// audits returns the audit lines with the action, oldest first.
func (b *testBundle) audits(t testing.TB, action string) []*sparekey.AuditEvent {
	t.Helper()
	return b.db.AuditOf(t, action)
}

// addStaff creates an account of the team directly in the store (no
// password is checked in these tests) and returns it.
func (b *testBundle) addStaff(t testing.TB, email, name string, properties ...int64) *sparekey.Staff {
	t.Helper()
	st := &sparekey.Staff{Email: email, Name: name, Role: sparekey.RoleMaintenance,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		Properties:   properties, CreatedAt: b.clock.Now()}
	b.write(t, func(tx sparekey.Tx) error { return tx.CreateStaff(b.ctx, st) })
	return st
}

// update changes a work order as staff:1 of every property, failing the
// test on error.
func (b *testBundle) update(t testing.TB, id int64, c upkeep.Change) *sparekey.WorkOrder {
	t.Helper()
	if c.Actor == "" {
		c.Actor = "staff:1"
	}
	wo, err := b.svc.Update(b.ctx, id, c)
	if err != nil {
		t.Fatalf("Update(%d, %+v): %v", id, c, err)
	}
	return wo
}

// resolve resolves a work order.
func (b *testBundle) resolve(t testing.TB, id int64) *sparekey.WorkOrder {
	t.Helper()
	return b.update(t, id, upkeep.Change{Status: ptr(sparekey.WorkOrderResolved), Resolution: "Adjusted the strike plate."})
}

func (b *testBundle) sweep(t testing.TB) {
	t.Helper()
	if err := b.svc.Sweep(b.ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
}

func (b *testBundle) openedSources() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.opened)
}

func ptr[T any](v T) *T { return &v }

var (
	wantCode = testkit.WantCode
	sameList = testkit.SameList
	allow    = testkit.Allow
)

func deny(int64) bool { return false }

// keypadUnlock records the resident's own code opening the lock.
func (b *testBundle) keypadUnlock(t testing.TB, device string) {
	t.Helper()
	l := b.lock(t, device)
	var slots []*sparekey.Slot
	b.read(t, func(tx sparekey.Tx) (err error) {
		slots, err = tx.SlotsByLock(b.ctx, l.ID)
		return err
	})
	for _, sl := range slots {
		if sl.Purpose == sparekey.SlotResident && sl.ResidentID != 0 {
			b.event(t, sparekey.DeviceEvent{Device: device, Kind: sparekey.EventKeypadUnlock, Slot: sl.Number, Source: "keypad"})
			return
		}
	}
	t.Fatalf("%s has no resident code", device)
}
