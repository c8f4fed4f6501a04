package sim_test

import (
	"context"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/device"
	"sparekey/internal/testkit"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/z2m"
)

type demoBundle struct {
	db     *testkit.DB
	demo   *sim.Demo
	driver device.Driver // the adapter, through the demo's twinning
	codes  *access.Service
}

// setupDemo is the demo as serve runs it: the demo's data in a real
// store, its locks on the embedded broker, the Zigbee2MQTT adapter on
// that broker recording into the access service through the device layer.
func setupDemo(t *testing.T) *demoBundle {
	t.Helper()
	ctx := context.Background()
	b := &demoBundle{db: testkit.OpenDB(t)}
	clock := sparekey.SystemClock{}
	demo, err := sim.StartDemo(sim.DemoConfig{Store: b.db, Clock: clock, BaseTopic: "zigbee2mqtt", SlotCount: roster.DefaultSlotCount})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Stop)
	b.demo = demo
	locks := device.NewRegistry()
	b.codes = access.New(access.Config{Store: b.db, Driver: locks, Clock: clock})
	if _, err := roster.SeedDemo(ctx, b.db, b.codes.Codes, clock); err != nil {
		t.Fatal(err)
	}
	events := device.NewDelivery(device.DeliveryConfig{Recorder: b.codes.Recorder})
	events.Start(ctx)
	t.Cleanup(events.Stop)
	a, err := z2m.New(z2m.Config{Broker: demo.BrokerURL(), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	b.driver = demo.Driver(a)
	locks.Register("", b.driver)
	if err := demo.Start(ctx, b.codes.Reconciler); err != nil {
		t.Fatal(err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Start(startCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return b
}

// residentCode is a code the lock should hold, from the database.
func (b *demoBundle) residentCode(t *testing.T, device string) string {
	t.Helper()
	for _, s := range b.db.Slots(t, device) {
		if s.Purpose == sparekey.SlotResident && s.Code != "" {
			return s.Code
		}
	}
	t.Fatalf("no resident code on %s", device)
	return ""
}

func TestDemoKeypadAnswersOnceRecorded(t *testing.T) {
	b := setupDemo(t)
	device := roster.Demo[0].Lock
	code := b.residentCode(t, device) // preloaded on the twin at Start
	before := time.Now().Add(-time.Second)
	res, err := b.demo.Keypad(context.Background(), device, code)
	if err != nil || res.Result != sim.KeypadUnlocked {
		t.Fatalf("Keypad(resident code) = %+v, %v; want unlocked", res, err)
	}
	l := b.db.Lock(t, device)
	if l.LastSeen == nil || l.LastSeen.Before(before) || l.State != sparekey.LockStateUnlocked {
		t.Fatalf("after Keypad the lock reads %s, last seen %v: its report was not recorded yet", l.State, l.LastSeen)
	}
	if res, err := b.demo.Keypad(context.Background(), device, "000000"); err != nil || res.Result != sim.KeypadRejected {
		t.Fatalf("Keypad(wrong code) = %+v, %v; want rejected", res, err)
	}
}

func TestDemoJammingTwiceIsTwoJams(t *testing.T) {
	b := setupDemo(t)
	device := roster.Demo[0].Lock
	jammed := true
	for range 2 {
		if err := b.demo.SetState(context.Background(), device, sim.StateChange{Jammed: &jammed}); err != nil {
			t.Fatal(err)
		}
		if l := b.db.Lock(t, device); l.State != sparekey.LockStateJammed {
			t.Fatalf("after jamming the lock reads %s", l.State)
		}
	}
	var jams int
	b.db.MustRead(t, func(tx sparekey.Tx) error {
		events, err := tx.LockEvents(context.Background(), b.db.Lock(t, device).ID, 50)
		for _, e := range events {
			if e.Kind == sparekey.EventJammed {
				jams++
			}
		}
		return err
	})
	if jams != 2 {
		t.Fatalf("%d jams recorded, want 2", jams)
	}
}

func TestDemoTwinsALockProgrammedFirst(t *testing.T) {
	b := setupDemo(t)
	ctx := context.Background()
	// A lock imported while the demo runs: no twin until programmed.
	if err := b.driver.SetPIN(ctx, "annex-1-front", 0, "731904"); err != nil {
		t.Fatalf("SetPIN on a new lock: %v", err)
	}
	if res, err := b.demo.Keypad(ctx, "annex-1-front", "731904"); err != nil || res.Result != sim.KeypadUnlocked {
		t.Fatalf("Keypad on the new twin = %+v, %v; want unlocked", res, err)
	}
}

func TestDemoBeforeStart(t *testing.T) {
	demo, err := sim.StartDemo(sim.DemoConfig{Store: testkit.OpenDB(t), Clock: sparekey.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Stop()
	if _, err := demo.Keypad(context.Background(), "unit-101-front", "1234"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
		t.Fatalf("Keypad before Start = %v, want lock_offline", err)
	}
}

// disconnected is a driver whose hub connection is down.
type disconnected struct{ device.Driver }

func (disconnected) Connected() bool { return false }

// The demo's driver says whether the adapter holds its broker, so the
// metrics see the demo's broker go as they see a real one's.
func TestDemoDriverTellsTheConnection(t *testing.T) {
	b := setupDemo(t)
	locks := device.NewRegistry()
	locks.Register("", b.driver)
	if !locks.Connected() {
		t.Error("the demo's driver says disconnected while its adapter is connected")
	}
	locks.Register("", b.demo.Driver(disconnected{}))
	if locks.Connected() {
		t.Error("the demo's driver says connected while its inner driver is not")
	}
}
