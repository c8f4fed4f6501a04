package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

// observer is a LockObserver for tests: it notes what it is told and what
// the transaction holds by then, and fails when told of failOn.
type observer struct {
	failOn sparekey.DeviceEventKind
	told   []sparekey.DeviceEventKind
	before []sparekey.LockState
	codes  []string // the used slot's code in the transaction, on keypad unlocks
}

func (o *observer) ObserveLockEvent(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, before sparekey.LockState, ev sparekey.DeviceEvent) error {
	if ev.Kind == o.failOn {
		return errors.New("observer refuses")
	}
	o.told, o.before = append(o.told, ev.Kind), append(o.before, before)
	if ev.Kind == sparekey.EventKeypadUnlock {
		slots, err := tx.SlotsByLock(ctx, lock.ID)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			if sl.Number == ev.Slot {
				o.codes = append(o.codes, sl.Code)
			}
		}
	}
	return nil
}

// Config.Observers are told of every recorded event in the transaction
// that records it, after Codes rotated a used backup code; one that fails
// leaves nothing of the event recorded.
func TestObserversToldInTheRecordingTransaction(t *testing.T) {
	t.Parallel()
	o := &observer{failOn: sparekey.EventJammed}
	b := setup(t, withConfig(func(c *access.Config) { c.Observers = []sparekey.LockObserver{o} }))
	b.runOnce(t)
	issued := b.issue(t, testkit.AnaEmail)
	if len(issued) != 1 {
		t.Fatalf("Ana got %d codes", len(issued))
	}
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, issued[0].Code); got != sim.KeypadUnlocked {
		t.Fatalf("backup code at the keypad = %s, want unlocked", got)
	}
	if n := len(o.told); n == 0 || o.told[n-1] != sparekey.EventKeypadUnlock {
		t.Fatalf("observer told %v, want the keypad unlock last", o.told)
	}
	if len(o.codes) != 1 || o.codes[0] == issued[0].Code || o.codes[0] != b.slot(t, testkit.AnaLock, issued[0].Number).Code {
		t.Errorf("observer saw the used slot hold %q; want the rotated code, not %q", o.codes, issued[0].Code)
	}

	// A jam the observer refuses: the lock keeps its state, and neither a
	// lock event nor an audit line is left.
	events, audits := len(b.lockEvents(t, testkit.AnaLock)), len(b.audits(t))
	jam := sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventJammed, At: b.clock.Now(), Slot: -1, Battery: -1}
	if err := b.svc.Recorder.HandleEvent(b.ctx, jam); err == nil {
		t.Fatal("HandleEvent with a failing observer = nil, want its error")
	}
	if l := b.lock(t, testkit.AnaLock); l.State == sparekey.LockStateJammed {
		t.Errorf("lock state = %s after a refused jam", l.State)
	}
	if got := len(b.lockEvents(t, testkit.AnaLock)); got != events {
		t.Errorf("%d lock events after a refused jam, want %d", got, events)
	}
	if got := len(b.audits(t)); got != audits {
		t.Errorf("%d audit lines after a refused jam, want %d", got, audits)
	}
}
