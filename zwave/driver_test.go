package zwave_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/device"
	"sparekey/internal/testkit"
	"sparekey/internal/zwavejs"
	"sparekey/zwave"
)

// recorder is the device layer's Recorder: it hands every event to the
// test.
type recorder chan sparekey.DeviceEvent

func (r recorder) HandleEvent(_ context.Context, ev sparekey.DeviceEvent) error {
	r <- ev
	return nil
}

type testBundle struct {
	logs      *testkit.SyncBuffer
	stack     *zwavejs.Stack
	driver    *zwave.Driver
	lock      string // the simulated lock's address
	events    recorder
	connected chan struct{}
}

func setup(t *testing.T) testBundle {
	t.Helper()
	return setupOn(t, zwavejs.Shared(t))
}

func setupOn(t *testing.T, stack *zwavejs.Stack) testBundle {
	t.Helper()
	t.Logf("the Z-Wave JS stack started in %s", stack.Started.Round(time.Millisecond))
	events := make(recorder, 1000)
	delivery := device.NewDelivery(device.DeliveryConfig{Recorder: events})
	ctx, cancel := context.WithCancel(context.Background())
	delivery.Start(ctx)
	connected := make(chan struct{}, 10)
	logs := &testkit.SyncBuffer{}
	d, err := zwave.New(zwave.Config{
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		Hubs:           map[string]string{"bldg-a": stack.URL},
		Events:         delivery,
		OnConnect:      func() { connected <- struct{}{} },
		PingEvery:      time.Second,
		CommandTimeout: 10 * time.Second,
		Backoff:        func(int) time.Duration { return 200 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Start(ctx)
	t.Cleanup(func() {
		d.Stop()
		delivery.Stop()
		cancel()
	})
	return testBundle{logs: logs, stack: stack, driver: d, lock: zwave.Address("bldg-a", stack.Node), events: events, connected: connected}
}

// next waits for the lock's first event of kind, skipping others.
func (b testBundle) next(t *testing.T, kind sparekey.DeviceEventKind) sparekey.DeviceEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-b.events:
			if ev.Device == b.lock && ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event from %s", kind, b.lock)
			return sparekey.DeviceEvent{}
		}
	}
}

func (b testBundle) drain() {
	for {
		select {
		case <-b.events:
		default:
			return
		}
	}
}

func waitConnected(t *testing.T, b testBundle) {
	t.Helper()
	select {
	case <-b.connected:
	case <-time.After(30 * time.Second):
		t.Fatal("the driver did not connect to the Z-Wave JS server")
	}
}

// TestDriver runs the driver against the real zwave-js and zwave-js-server
// and a simulated keypad deadbolt: one stack, the scenarios in order.
func TestDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Z-Wave JS stack takes seconds to start")
	}
	b := setup(t)
	ctx := context.Background()
	waitConnected(t, b)

	if strings.Contains(b.logs.String(), "queryAllUserCodes") {
		t.Fatalf("warned about queryAllUserCodes on a hub that has it on:\n%s", b.logs)
	}

	t.Run("the state dump is the baseline", func(t *testing.T) {
		b.next(t, sparekey.EventOnline)
		st := b.next(t, sparekey.EventState)
		if st.State != sparekey.LockStateLocked || st.Battery != 90 {
			t.Fatalf("baseline = %+v, want locked with 90%% battery", st)
		}
	})

	t.Run("a code is on the lock once SetPIN returns", func(t *testing.T) {
		if err := b.driver.SetPIN(ctx, b.lock, 2, "482913"); err != nil {
			t.Fatal(err)
		}
		if got := b.stack.Slot(t, 3); got.Status != 1 || got.Code != "482913" {
			t.Fatalf("userId 3 on the lock = %+v, want enabled 482913", got)
		}
	})

	t.Run("the code typed on the keypad is a keypad unlock of its slot", func(t *testing.T) {
		b.drain()
		if r := b.stack.Keypad(t, "482913"); !r.Opened {
			t.Fatalf("keypad: %+v", r)
		}
		ev := b.next(t, sparekey.EventKeypadUnlock)
		if ev.Slot != 2 || ev.Source != "keypad" || ev.State != sparekey.LockStateUnlocked {
			t.Fatalf("keypad unlock = %+v, want slot 2 from the keypad", ev)
		}
	})

	t.Run("a wrong code", func(t *testing.T) {
		if r := b.stack.Keypad(t, "000111"); r.Opened {
			t.Fatalf("a wrong code opened the lock: %+v", r)
		}
		b.next(t, sparekey.EventWrongCode)
	})

	t.Run("ClearPIN empties the slot on the lock", func(t *testing.T) {
		if err := b.driver.ClearPIN(ctx, b.lock, 2); err != nil {
			t.Fatal(err)
		}
		if got := b.stack.Slot(t, 3); got.Status != 0 || got.Code != "" {
			t.Fatalf("userId 3 on the lock = %+v, want available", got)
		}
	})

	t.Run("remote lock and unlock are confirmed by currentMode", func(t *testing.T) {
		if err := b.driver.Lock(ctx, b.lock); err != nil {
			t.Fatal(err)
		}
		if got := b.stack.Bolt(t); got != 255 {
			t.Fatalf("bolt = %d after Lock", got)
		}
		if err := b.driver.Unlock(ctx, b.lock); err != nil {
			t.Fatal(err)
		}
		if got := b.stack.Bolt(t); got != 0 {
			t.Fatalf("bolt = %d after Unlock", got)
		}
		// Locking a locked bolt is done at once.
		if err := b.driver.Lock(ctx, b.lock); err != nil {
			t.Fatal(err)
		}
		if err := b.driver.Lock(ctx, b.lock); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("manual unlock", func(t *testing.T) {
		b.drain()
		b.stack.Manual(t, false)
		if ev := b.next(t, sparekey.EventUnlocked); ev.Source != "manual" {
			t.Fatalf("unlock = %+v, want manual", ev)
		}
		b.stack.Manual(t, true)
		b.next(t, sparekey.EventLocked)
	})

	t.Run("a jam is recorded once, and a command to the jammed bolt fails", func(t *testing.T) {
		b.drain()
		b.stack.Jam(t)
		if ev := b.next(t, sparekey.EventJammed); ev.State != sparekey.LockStateJammed {
			t.Fatalf("jam = %+v", ev)
		}
		err := b.driver.Unlock(ctx, b.lock)
		if sparekey.ErrorCode(err) != sparekey.ELOCKJAMMED {
			t.Fatalf("Unlock of a jammed lock: %v, want %s", err, sparekey.ELOCKJAMMED)
		}
		b.stack.Unjam(t)
		b.next(t, sparekey.EventJamCleared)
		time.Sleep(200 * time.Millisecond)
		for {
			select {
			case ev := <-b.events:
				if ev.Kind == sparekey.EventJammed {
					t.Fatalf("a second jam event: %+v", ev)
				}
				continue
			default:
			}
			break
		}
	})

	t.Run("battery", func(t *testing.T) {
		b.stack.Battery(t, 55)
		if ev := b.next(t, sparekey.EventBattery); ev.Battery != 55 {
			t.Fatalf("battery = %+v", ev)
		}
		// A flat battery: its level, and "replace battery now".
		b.stack.Battery(t, 5)
		if ev := b.next(t, sparekey.EventBattery); ev.Battery >= 20 {
			t.Fatalf("low battery = %+v, want under 20%%", ev)
		}
		b.stack.Battery(t, 90)
		b.next(t, sparekey.EventBattery)
	})

	t.Run("a lock that stops answering goes offline, and online when it answers", func(t *testing.T) {
		b.drain()
		began := time.Now()
		b.stack.Dead(t)
		if ev := b.next(t, sparekey.EventOffline); ev.Source != zwave.ReasonNode {
			t.Fatalf("offline = %+v, want reason %q", ev, zwave.ReasonNode)
		}
		t.Logf("the dead lock showed offline after %s", time.Since(began).Round(time.Millisecond))
		// A command to it fails at once, and waits for the lock to be back.
		if err := b.driver.SetPIN(ctx, b.lock, 5, "918273"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
			t.Fatalf("SetPIN to the dead lock: %v, want %s", err, sparekey.ELOCKOFFLINE)
		}
		b.stack.Alive(t)
		b.next(t, sparekey.EventOnline)
	})

	t.Run("the hub going away takes its locks offline at once; they are back with it", func(t *testing.T) {
		b.drain()
		b.stack.StopHub(t)
		if ev := b.next(t, sparekey.EventOffline); ev.Source != zwave.ReasonHub {
			t.Fatalf("offline = %+v, want reason %q", ev, zwave.ReasonHub)
		}
		if err := b.driver.Lock(ctx, b.lock); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
			t.Fatalf("Lock while the hub is away: %v, want %s", err, sparekey.ELOCKOFFLINE)
		}
		b.stack.StartHub(t)
		waitConnected(t, b)
		b.next(t, sparekey.EventOnline)
		if err := b.driver.SetPIN(ctx, b.lock, 4, "730519"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the hub restarts: zwave-js reads the network again, the codes stay", func(t *testing.T) {
		b.drain()
		b.stack.RestartHub(t)
		waitConnected(t, b)
		b.next(t, sparekey.EventOnline)
		if got := b.stack.Slot(t, 5); got.Code != "730519" {
			t.Fatalf("userId 5 after the restart = %+v", got)
		}
		if err := b.driver.ClearPIN(ctx, b.lock, 4); err != nil {
			t.Fatal(err)
		}
		if err := b.driver.Lock(ctx, b.lock); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		hub  string
		node int
		ok   bool
	}{
		{"zwave://bldg-a/12", "bldg-a", 12, true},
		{"zwave://h.1/232", "h.1", 232, true},
		{"zwave://bldg-a/0", "", 0, false},
		{"zwave://bldg-a/012", "", 0, false},
		{"zwave://bldg-a/12/3", "", 0, false},
		{"zwave://bldg a/12", "", 0, false},
		{"zwave:///12", "", 0, false},
		{"unit-101-front", "", 0, false},
		{"zwave://bldg-a/", "", 0, false},
		{"zwave://bldg-a/-1", "", 0, false},
	} {
		hub, node, err := zwave.ParseAddress(tc.in)
		if (err == nil) != tc.ok || hub != tc.hub || node != tc.node {
			t.Errorf("ParseAddress(%q) = %q, %d, %v", tc.in, hub, node, err)
		}
		if tc.ok && zwave.Address(hub, node) != tc.in {
			t.Errorf("Address(%q, %d) = %q", hub, node, zwave.Address(hub, node))
		}
	}
}

// TestQueryAllUserCodesOffWarned: a hub whose zwave-js reads no user codes
// at the interview (interview.queryAllUserCodes off, which clears the codes
// of a lock it did not include) is warned about when Sparekey connects.
func TestQueryAllUserCodesOffWarned(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Z-Wave JS stack takes seconds to start")
	}
	b := setupOn(t, zwavejs.StartWith(t, zwavejs.Options{NoQueryAllUserCodes: true}))
	waitConnected(t, b)
	if !strings.Contains(b.logs.String(), "interview.queryAllUserCodes looks off") || !strings.Contains(b.logs.String(), b.lock) {
		t.Fatalf("no warning about queryAllUserCodes:\n%s", b.logs)
	}
}

// TestStopIsNotTheHubGoingDown: Sparekey shutting down leaves its locks as
// they are; only a hub that goes away takes them offline.
func TestStopIsNotTheHubGoingDown(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Z-Wave JS stack takes seconds to start")
	}
	b := setup(t)
	waitConnected(t, b)
	b.next(t, sparekey.EventOnline)
	b.driver.Stop()
	time.Sleep(200 * time.Millisecond)
	for {
		select {
		case ev := <-b.events:
			if ev.Kind == sparekey.EventOffline {
				t.Fatalf("offline on shutdown: %+v", ev)
			}
			continue
		default:
		}
		break
	}
}
