package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
)

const dev = "unit-101-front"

// t0 is testkit.T0, which this package's own tests cannot import (testkit
// imports sim).
var t0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// fakeClock stands still until a test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventLog records what the fleet delivers.
type eventLog struct {
	mu     sync.Mutex
	events []sparekey.DeviceEvent
}

func (l *eventLog) record(e sparekey.DeviceEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events recorded since the last take.
func (l *eventLog) take() []sparekey.DeviceEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	events := l.events
	l.events = nil
	return events
}

type testBundle struct {
	fleet  *Fleet
	clock  *fakeClock
	events *eventLog
}

// setup returns a fleet with one lock, dev, of 10 slots, and a log of its
// events.
func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{clock: &fakeClock{now: t0}, events: &eventLog{}}
	b.fleet = New(b.clock)
	b.fleet.Add(dev, 10)
	b.fleet.Subscribe(b.events.record)
	return b
}

func (b *testBundle) setPIN(t *testing.T, slot int, code string) {
	t.Helper()
	if err := b.fleet.SetPIN(context.Background(), dev, slot, code); err != nil {
		t.Fatalf("SetPIN(%d): %v", slot, err)
	}
}

func (b *testBundle) keypad(t *testing.T, code string) KeypadResult {
	t.Helper()
	res, err := b.fleet.Keypad(dev, code)
	if err != nil {
		t.Fatalf("Keypad: %v", err)
	}
	return res
}

func (b *testBundle) setState(t *testing.T, c StateChange) {
	t.Helper()
	if err := b.fleet.SetState(dev, c); err != nil {
		t.Fatalf("SetState: %v", err)
	}
}

func (b *testBundle) status(t *testing.T) Status {
	t.Helper()
	s, err := b.fleet.Status(dev)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return s
}

// event is a report of dev at the bundle's current time with no slot and no
// battery.
func (b *testBundle) event(kind sparekey.DeviceEventKind, source string, state sparekey.LockState) sparekey.DeviceEvent {
	return sparekey.DeviceEvent{Device: dev, Kind: kind, At: b.clock.Now(), Slot: -1, Source: source, State: state, Battery: -1}
}

// wantEvents checks that exactly want was delivered since the last check.
func (b *testBundle) wantEvents(t *testing.T, want ...sparekey.DeviceEvent) {
	t.Helper()
	got := b.events.take()
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %s\nwant %s", formatEvents(got), formatEvents(want))
	}
}

func formatEvents(events []sparekey.DeviceEvent) string {
	var sb strings.Builder
	for _, e := range events {
		fmt.Fprintf(&sb, "\n  {%s %s at %s slot %d source %q state %s battery %d}",
			e.Device, e.Kind, e.At.Format(time.TimeOnly), e.Slot, e.Source, e.State, e.Battery)
	}
	if sb.Len() == 0 {
		return "none"
	}
	return sb.String()
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sparekey.ErrorCode(err); got != code {
		t.Errorf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestAddIsIdempotentAndDevicesSorted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setPIN(t, 9, "482913")
	b.fleet.Add(dev, 2) // already there: keeps its slots and codes
	b.fleet.Add("unit-103-front", 4)
	b.fleet.Add("unit-102-front", 4)

	want := []string{"unit-101-front", "unit-102-front", "unit-103-front"}
	if got := b.fleet.Devices(); !slices.Equal(got, want) {
		t.Errorf("Devices() = %v, want %v", got, want)
	}
	if got := b.fleet.Programmed(dev); got[9] != "482913" {
		t.Errorf("Programmed after a second Add = %v, want slot 9 kept", got)
	}
	s, err := b.fleet.Status("unit-102-front")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := Status{Device: "unit-102-front", State: sparekey.LockStateLocked, Online: true, Battery: 100, SlotCount: 4}
	if s.Device != wantStatus.Device || s.State != wantStatus.State || !s.Online || s.Battery != 100 ||
		s.Jammed || !s.KeypadDisabledUntil.IsZero() || s.SlotCount != 4 || s.Slots == nil || len(s.Slots) != 0 {
		t.Errorf("new lock status = %+v, want %+v with empty Slots", s, wantStatus)
	}
	b.wantEvents(t)
}

func TestRemoteLockUnlock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if err := b.fleet.Unlock(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if got := b.status(t).State; got != sparekey.LockStateUnlocked {
		t.Errorf("state after Unlock = %s", got)
	}
	b.wantEvents(t, b.event(sparekey.EventUnlocked, SourceRemote, sparekey.LockStateUnlocked))

	b.clock.Advance(time.Minute)
	if err := b.fleet.Lock(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if got := b.status(t).State; got != sparekey.LockStateLocked {
		t.Errorf("state after Lock = %s", got)
	}
	b.wantEvents(t, b.event(sparekey.EventLocked, SourceRemote, sparekey.LockStateLocked))
}

func TestDriverRejectsBadArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(context.Context, *Fleet) error
	}{
		{"SetPIN slot -1", func(ctx context.Context, f *Fleet) error { return f.SetPIN(ctx, dev, -1, "482913") }},
		{"SetPIN slot past the end", func(ctx context.Context, f *Fleet) error { return f.SetPIN(ctx, dev, 10, "482913") }},
		{"ClearPIN slot -1", func(ctx context.Context, f *Fleet) error { return f.ClearPIN(ctx, dev, -1) }},
		{"ClearPIN slot past the end", func(ctx context.Context, f *Fleet) error { return f.ClearPIN(ctx, dev, 10) }},
		{"SetPIN empty code", func(ctx context.Context, f *Fleet) error { return f.SetPIN(ctx, dev, 0, "") }},
		{"SetPIN code with letters", func(ctx context.Context, f *Fleet) error { return f.SetPIN(ctx, dev, 0, "48x913") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			err := tt.call(context.Background(), b.fleet)
			wantCode(t, err, sparekey.EINVALID)
			if err != nil && strings.Contains(err.Error(), "913") {
				t.Errorf("error %q shows the code", err)
			}
			if got := b.fleet.Programmed(dev); len(got) != 0 {
				t.Errorf("Programmed = %v, want nothing", got)
			}
		})
	}
}

func TestUnknownDevice(t *testing.T) {
	t.Parallel()
	const ghost = "unit-999-front"
	tests := []struct {
		name string
		call func(context.Context, *Fleet) error
	}{
		{"SetPIN", func(ctx context.Context, f *Fleet) error { return f.SetPIN(ctx, ghost, 0, "482913") }},
		{"ClearPIN", func(ctx context.Context, f *Fleet) error { return f.ClearPIN(ctx, ghost, 0) }},
		{"Lock", func(ctx context.Context, f *Fleet) error { return f.Lock(ctx, ghost) }},
		{"Unlock", func(ctx context.Context, f *Fleet) error { return f.Unlock(ctx, ghost) }},
		{"Keypad", func(_ context.Context, f *Fleet) error { _, err := f.Keypad(ghost, "482913"); return err }},
		{"SetState", func(_ context.Context, f *Fleet) error { return f.SetState(ghost, StateChange{Online: new(false)}) }},
		{"Status", func(_ context.Context, f *Fleet) error { _, err := f.Status(ghost); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantCode(t, tt.call(context.Background(), b.fleet), sparekey.ENOTFOUND)
			b.wantEvents(t)
		})
	}
	if got := New(&fakeClock{}).Programmed(ghost); got != nil {
		t.Errorf("Programmed(unknown) = %v, want nil", got)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.fleet.SetPIN(ctx, dev, 0, "482913"); err != context.Canceled {
		t.Errorf("SetPIN with a canceled context = %v", err)
	}
	if err := b.fleet.Unlock(ctx, dev); err != context.Canceled {
		t.Errorf("Unlock with a canceled context = %v", err)
	}
	if len(b.fleet.Programmed(dev)) != 0 || b.status(t).State != sparekey.LockStateLocked {
		t.Error("a canceled command changed the lock")
	}
}

func TestStatusAndProgrammed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setPIN(t, 7, "730194")
	b.setPIN(t, 2, "482913")
	b.setPIN(t, 4, "551820")
	if err := b.fleet.ClearPIN(context.Background(), dev, 4); err != nil {
		t.Fatal(err)
	}
	if got := b.status(t).Slots; !slices.Equal(got, []int{2, 7}) {
		t.Errorf("Status().Slots = %v, want [2 7]", got)
	}
	codes := b.fleet.Programmed(dev)
	if len(codes) != 2 || codes[2] != "482913" || codes[7] != "730194" {
		t.Errorf("Programmed = %v", codes)
	}
	codes[2] = "000000" // a copy: the lock keeps its code
	if got := b.keypad(t, "482913"); got.Result != KeypadUnlocked {
		t.Errorf("Keypad after changing Programmed's map = %+v", got)
	}
	if got := b.keypad(t, "551820"); got.Result != KeypadRejected {
		t.Errorf("a cleared code: Keypad = %+v, want rejected", got)
	}
}

func TestBatteryRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		battery int
		valid   bool
	}{
		{-1, false},
		{0, true},
		{15, true},
		{100, true},
		{101, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.battery), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			err := b.fleet.SetState(dev, StateChange{Battery: new(tt.battery), Jammed: new(true)})
			if !tt.valid {
				wantCode(t, err, sparekey.EINVALID)
				if s := b.status(t); s.Battery != 100 || s.Jammed {
					t.Errorf("a rejected change changed the lock: %+v", s)
				}
				b.wantEvents(t)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := b.status(t).Battery; got != tt.battery {
				t.Errorf("Battery = %d, want %d", got, tt.battery)
			}
			battery := b.event(sparekey.EventBattery, "", sparekey.LockStateJammed)
			battery.Battery = tt.battery
			b.wantEvents(t, b.event(sparekey.EventJammed, "", sparekey.LockStateJammed), battery)
		})
	}
}

// TestHandlerMayCallFleet: the handler runs outside the lock's mutex, and a
// report made from inside it is delivered after the current one.
func TestHandlerMayCallFleet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var kinds []sparekey.DeviceEventKind
	b.fleet.Subscribe(func(e sparekey.DeviceEvent) {
		kinds = append(kinds, e.Kind)
		if _, err := b.fleet.Status(e.Device); err != nil {
			t.Error(err)
		}
		if e.Kind == sparekey.EventUnlocked {
			if err := b.fleet.Lock(context.Background(), e.Device); err != nil {
				t.Error(err)
			}
			kinds = append(kinds, "lock returned")
		}
	})
	if err := b.fleet.Unlock(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	want := []sparekey.DeviceEventKind{sparekey.EventUnlocked, "lock returned", sparekey.EventLocked}
	if !slices.Equal(kinds, want) {
		t.Errorf("handler saw %v, want %v", kinds, want)
	}
}

// TestHandlerPanicDoesNotStopDelivery: a handler that panics loses its own
// report, not the ones after it.
func TestHandlerPanicDoesNotStopDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fleet.Subscribe(func(e sparekey.DeviceEvent) {
		if e.Kind == sparekey.EventUnlocked {
			panic("handler bug")
		}
		b.events.record(e)
	})
	func() {
		defer func() { _ = recover() }()
		_ = b.fleet.Unlock(context.Background(), dev)
	}()
	if err := b.fleet.Lock(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	b.wantEvents(t, b.event(sparekey.EventLocked, SourceRemote, sparekey.LockStateLocked))
}

func TestNoSubscriber(t *testing.T) {
	t.Parallel()
	f := New(&fakeClock{now: t0})
	f.Add(dev, 1)
	if err := f.Unlock(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	log := &eventLog{}
	f.Subscribe(log.record)
	if _, err := f.Keypad(dev, "1"); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 || got[0].Kind != sparekey.EventWrongCode {
		t.Errorf("events after Subscribe = %s, want only the wrong code", formatEvents(got))
	}
}

// TestConcurrentUse runs every operation from many goroutines on a few locks
// (run it with -race) and checks that each lock's reports arrive in order:
// the last report of a lock shows the state the lock ended in, and the
// reports of one lock never overlap in the handler.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: t0}
	f := New(clock)
	devices := []string{"unit-101-front", "unit-102-front", "unit-103-front"}
	for _, d := range devices {
		f.Add(d, 4)
	}
	var (
		mu     sync.Mutex
		last   = map[string]sparekey.DeviceEvent{}
		inside = map[string]bool{}
		count  int
	)
	f.Subscribe(func(e sparekey.DeviceEvent) {
		mu.Lock()
		if inside[e.Device] {
			t.Errorf("two reports of %s in the handler at once", e.Device)
		}
		inside[e.Device] = true
		mu.Unlock()
		time.Sleep(time.Microsecond)
		mu.Lock()
		inside[e.Device] = false
		last[e.Device] = e
		count++
		mu.Unlock()
	})

	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			d := devices[g%len(devices)]
			for i := range 50 {
				code := fmt.Sprintf("%06d", 100000+g*1000+i)
				_ = f.SetPIN(ctx, d, i%4, code)
				_, _ = f.Keypad(d, code)
				_, _ = f.Keypad(d, "999999999")
				_ = f.Lock(ctx, d)
				_ = f.Unlock(ctx, d)
				_ = f.ClearPIN(ctx, d, i%4)
				_ = f.SetState(d, StateChange{Battery: new(i % 101)})
				if i%10 == 0 {
					_ = f.SetState(d, StateChange{Jammed: new(g%2 == 0), Online: new(g%3 != 0)})
				}
				_, _ = f.Status(d)
				_ = f.Programmed(d)
				_ = f.Devices()
				clock.Advance(time.Second)
			}
		})
	}
	wg.Wait()

	// Make every lock report once more, from one goroutine: the report must
	// be the last one delivered and show the lock's final state.
	for _, d := range devices {
		if err := f.SetState(d, StateChange{Online: new(true)}); err != nil {
			t.Fatal(err)
		}
		if err := f.SetState(d, StateChange{Battery: new(42)}); err != nil {
			t.Fatal(err)
		}
		s, err := f.Status(d)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		e := last[d]
		mu.Unlock()
		if e.Kind != sparekey.EventBattery || e.Battery != 42 || e.State != s.State {
			t.Errorf("%s: last report %s, status %+v", d, formatEvents([]sparekey.DeviceEvent{e}), s)
		}
	}
	if count == 0 {
		t.Error("no reports delivered")
	}
}
