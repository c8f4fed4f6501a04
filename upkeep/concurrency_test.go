package upkeep_test

import (
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/upkeep"
)

// together runs the functions at once and returns their errors.
func together(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, what string, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s #%d: %v", what, i, err)
		}
	}
}

// Instances sweeping the same database at once open one order per jammed
// lock, and tell the team once (on PostgreSQL the row locks and the unique
// index of open orders hold this; on SQLite the one writer).
func TestConcurrentSweepsOpenOneOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	instances := make([]*upkeep.Service, 6)
	for i := range instances {
		instances[i] = upkeep.New(b.cfg)
	}
	locks := []string{testkit.AnaLock, testkit.BenLock, testkit.ChenLock}
	for _, l := range locks {
		b.jam(t, l)
	}
	for round := 1; round <= 3; round++ {
		b.clock.Advance(31 * time.Minute)
		var sweeps []func() error
		for _, s := range instances {
			sweeps = append(sweeps, func() error { return s.Sweep(b.ctx) })
		}
		noErrors(t, "Sweep", together(sweeps...))
		for _, l := range locks {
			orders := b.orders(t, l)
			open := 0
			for _, wo := range orders {
				if wo.Status != sparekey.WorkOrderResolved {
					open++
				}
			}
			if len(orders) != round || open != 1 {
				t.Fatalf("round %d: %s has %d orders, %d open", round, l, len(orders), open)
			}
		}
		if got := len(b.sent(t, "work_order_opened")); got != 2*len(locks)*round {
			t.Fatalf("round %d: %d messages to the team, want %d", round, got, 2*len(locks)*round)
		}
		// Fixed; the locks jam again.
		for _, l := range locks {
			b.resolve(t, b.orders(t, l)[round-1].ID)
			b.clear(t, l)
		}
		b.clock.Advance(time.Minute)
		for _, l := range locks {
			b.jam(t, l)
		}
	}
}

// Two residents of a unit who report a stuck door at the same moment get
// one work order between them, and neither gets an error.
func TestConcurrentReportsShareOneOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rosa := b.addRoommate(t)
	a := b.resident(t, testkit.AnaEmail)
	for round := 1; round <= 5; round++ {
		var reps [2]*upkeep.Reported
		errs := together(
			func() (err error) {
				reps[0], err = b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID})
				return err
			},
			func() (err error) {
				reps[1], err = b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: rosa.ID})
				return err
			},
		)
		noErrors(t, "Report", errs[:])
		if reps[0].WorkOrder.ID != reps[1].WorkOrder.ID || reps[0].Opened == reps[1].Opened {
			t.Fatalf("round %d: reports = %+v, %+v; want one order, opened once", round, reps[0], reps[1])
		}
		if got := b.orders(t, testkit.AnaLock); len(got) != round {
			t.Fatalf("round %d: %d orders", round, len(got))
		}
		b.resolve(t, reps[0].WorkOrder.ID)
		b.clock.Advance(time.Hour)
	}
}

// A lock's report and a resident's report at the same moment: the lock's
// event is recorded and there is one order.
func TestConcurrentJamAndReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.resident(t, testkit.AnaEmail)
	rule := sparekey.JamRule{Jams: 1, Window: time.Hour, Uncleared: time.Minute}
	if err := b.svc.SetJamRule(b.ctx, b.maple(t).ID, rule, "staff:1"); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 5; round++ {
		errs := together(
			func() error {
				return b.access.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventJammed, At: b.clock.Now(), Slot: -1, Battery: -1})
			},
			func() error {
				_, err := b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID})
				return err
			},
		)
		noErrors(t, "jam and report", errs)
		orders := b.orders(t, testkit.AnaLock)
		if len(orders) != round || orders[round-1].Status != sparekey.WorkOrderOpen {
			t.Fatalf("round %d: orders %+v", round, orders)
		}
		if l := b.lock(t, testkit.AnaLock); l.State != sparekey.LockStateJammed {
			t.Fatalf("round %d: the jam was not recorded: lock %+v", round, l)
		}
		b.clear(t, testkit.AnaLock)
		b.resolve(t, orders[round-1].ID)
		b.clock.Advance(2 * time.Hour)
	}
}

// The sweep and a lock's reports touch the same rows; at the same moment
// neither may fail (a deadlock on PostgreSQL would abort one).
func TestConcurrentSweepAndLockReports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for round := 1; round <= 10; round++ {
		b.jam(t, testkit.AnaLock)
		b.clock.Advance(31 * time.Minute)
		errs := together(
			func() error { return b.svc.Sweep(b.ctx) },
			func() error {
				return b.access.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventJamCleared, At: b.clock.Now(), Slot: -1, Battery: -1})
			},
		)
		noErrors(t, "sweep and jam cleared", errs)
		if wo, err := b.activeOrder(t, testkit.AnaLock); err == nil {
			b.resolve(t, wo.ID)
		}
		b.clock.Advance(time.Hour)
	}
}

// The staff resolving an order and the lock reporting at the same moment.
func TestConcurrentUpdateAndLockReports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.resident(t, testkit.AnaEmail)
	for round := 1; round <= 10; round++ {
		rep, err := b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		errs := together(
			func() error {
				_, err := b.svc.Update(b.ctx, rep.WorkOrder.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderInProgress), Actor: "staff:1"})
				return err
			},
			func() error {
				return b.access.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventLocked, At: b.clock.Now(), Slot: -1, Battery: -1})
			},
		)
		noErrors(t, "update and locked", errs)
		b.resolve(t, rep.WorkOrder.ID)
		b.clock.Advance(time.Hour)
	}
}

func (b *testBundle) activeOrder(t testing.TB, device string) (*sparekey.WorkOrder, error) {
	l := b.lock(t, device)
	var wo *sparekey.WorkOrder
	err := b.db.Read(b.ctx, func(tx sparekey.Tx) (err error) {
		wo, err = tx.ActiveWorkOrder(b.ctx, l.ID)
		return err
	})
	return wo, err
}
