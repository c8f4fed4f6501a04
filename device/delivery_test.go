package device_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/device"
	"sparekey/internal/testkit"
)

// recorder is a Recorder that remembers what it recorded, failing the
// first fails tries of each event.
type recorder struct {
	mu       sync.Mutex
	recorded []sparekey.DeviceEvent
	tries    map[string]int
	fails    int
	panicOn  sparekey.DeviceEventKind
	slow     time.Duration
}

func (r *recorder) HandleEvent(_ context.Context, ev sparekey.DeviceEvent) error {
	if ev.Kind == r.panicOn {
		panic("recorder broke")
	}
	time.Sleep(r.slow)
	r.mu.Lock()
	defer r.mu.Unlock()
	key := fmt.Sprint(ev.Device, ev.At.UnixNano())
	if r.tries == nil {
		r.tries = map[string]int{}
	}
	r.tries[key]++
	if r.tries[key] <= r.fails {
		return errors.New("database is locked")
	}
	r.recorded = append(r.recorded, ev)
	return nil
}

func (r *recorder) all() []sparekey.DeviceEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sparekey.DeviceEvent(nil), r.recorded...)
}

func (r *recorder) has(ev sparekey.DeviceEvent) bool {
	for _, e := range r.all() {
		if e.Device == ev.Device && e.At.Equal(ev.At) && e.Kind == ev.Kind {
			return true
		}
	}
	return false
}

// event is the n-th event of the lock: At tells them apart.
func event(device string, kind sparekey.DeviceEventKind, n int) sparekey.DeviceEvent {
	return sparekey.DeviceEvent{Device: device, Kind: kind, At: testkit.T0.Add(time.Duration(n) * time.Second), Slot: -1, Battery: -1}
}

// startDelivery starts a delivery on rec that retries at once, stopped
// when the test ends.
func startDelivery(t *testing.T, cfg device.DeliveryConfig) *device.Delivery {
	t.Helper()
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 0 }
	}
	d := device.NewDelivery(cfg)
	d.Start(context.Background())
	t.Cleanup(d.Stop)
	return d
}

func TestDeliveryKeepsEachLocksOrder(t *testing.T) {
	rec := &recorder{slow: 50 * time.Microsecond}
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec})
	const locks, each = 12, 60
	var wg sync.WaitGroup
	for l := range locks {
		wg.Go(func() {
			name := fmt.Sprintf("unit-%d", l)
			for n := range each {
				d.Deliver(name, []sparekey.DeviceEvent{event(name, sparekey.EventLocked, n)}, nil)
			}
		})
	}
	wg.Wait()
	d.Stop() // waits for every accepted event
	last := map[string]time.Time{}
	count := map[string]int{}
	for _, ev := range rec.all() {
		if !ev.At.After(last[ev.Device]) && count[ev.Device] > 0 {
			t.Fatalf("%s: event at %v recorded after one at %v", ev.Device, ev.At, last[ev.Device])
		}
		last[ev.Device] = ev.At
		count[ev.Device]++
	}
	for l := range locks {
		if n := count[fmt.Sprintf("unit-%d", l)]; n != each {
			t.Errorf("unit-%d: %d events recorded, want %d", l, n, each)
		}
	}
}

func TestDeliveryAcksAfterRecording(t *testing.T) {
	rec := &recorder{fails: 2}
	var recorded atomic.Int32
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, Recorded: func(sparekey.DeviceEvent) { recorded.Add(1) }})
	msg := []sparekey.DeviceEvent{event("front", sparekey.EventKeypadUnlock, 1), event("front", sparekey.EventBattery, 2)}
	acked := make(chan bool, 1)
	d.Deliver("front", msg, func() { acked <- rec.has(msg[0]) && rec.has(msg[1]) })
	select {
	case both := <-acked:
		if !both {
			t.Fatal("message acknowledged before both its events were recorded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message never acknowledged")
	}
	if n := recorded.Load(); n != 2 {
		t.Fatalf("Recorded told of %d events, want 2", n)
	}
	// Nothing to record: acknowledged at once.
	done := false
	d.Deliver("front", nil, func() { done = true })
	if !done {
		t.Fatal("a message with no events was not acknowledged")
	}
}

func TestDeliveryGivesUpAfterTries(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	rec := &recorder{fails: 100}
	var mu sync.Mutex
	var waits []int
	var recorded atomic.Int32
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, Tries: 5, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Recorded: func(sparekey.DeviceEvent) { recorded.Add(1) },
		Backoff: func(n int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, n)
			return 0
		}})
	acked := make(chan struct{})
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventKeypadUnlock, 1)}, func() { close(acked) })
	select {
	case <-acked: // acknowledged anyway: one lost event must not hold every later one back
	case <-time.After(5 * time.Second):
		t.Fatal("a lost event was never acknowledged")
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(waits) != "[1 2 3 4]" {
		t.Errorf("waits between tries = %v, want [1 2 3 4]", waits)
	}
	if !strings.Contains(logs.String(), "lock event lost after retries") || !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("log = %q, want the lost event and its error", logs.String())
	}
	if recorded.Load() != 0 {
		t.Error("Recorded told of an event that was not recorded")
	}
}

func TestDeliveryDefaultBackoff(t *testing.T) {
	rec := &recorder{fails: 1}
	d := device.NewDelivery(device.DeliveryConfig{Recorder: rec})
	d.Start(context.Background())
	start := time.Now()
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventLocked, 1)}, nil)
	d.Stop()
	if took := time.Since(start); took < 200*time.Millisecond || len(rec.all()) != 1 {
		t.Fatalf("one failure then success took %v and recorded %d, want 200ms and 1", took, len(rec.all()))
	}
}

func TestDeliverySurvivesAPanic(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	rec := &recorder{panicOn: sparekey.EventReset}
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	acked := make(chan struct{})
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventReset, 1), event("front", sparekey.EventLocked, 2)}, func() { close(acked) })
	<-acked
	if got := rec.all(); len(got) != 1 || got[0].Kind != sparekey.EventLocked {
		t.Fatalf("recorded %+v, want the event after the panic", got)
	}
	if !strings.Contains(logs.String(), "panicked") {
		t.Errorf("log = %q, want the panic", logs.String())
	}
}

func TestDeliveryStopWaitsAndRefuses(t *testing.T) {
	rec := &recorder{slow: 2 * time.Millisecond}
	d := device.NewDelivery(device.DeliveryConfig{Recorder: rec})
	// Accepted before Start: they wait on the shards.
	for n := range 50 {
		d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventLocked, n)}, nil)
	}
	d.Start(context.Background())
	d.Stop()
	if n := len(rec.all()); n != 50 {
		t.Fatalf("Stop returned with %d of 50 accepted events recorded", n)
	}
	acked := false
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventLocked, 99)}, func() { acked = true })
	if !acked || len(rec.all()) != 50 {
		t.Fatal("a stopped delivery should acknowledge and record nothing")
	}
	d.Stop() // twice is fine
}

func TestDeliveryKeepsOtherOwnersEvents(t *testing.T) {
	rec := &recorder{}
	var owns atomic.Bool
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, KeepFor: time.Minute, Owns: func(string) bool { return owns.Load() }})
	acked := false
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventState, 1), event("front", sparekey.EventKeypadUnlock, 2)},
		func() { acked = true })
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventBattery, 3)}, nil)
	if !acked {
		t.Fatal("another owner's event should be acknowledged at once")
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(rec.all()); n != 0 {
		t.Fatalf("%d events recorded of a lock this instance does not own", n)
	}

	owns.Store(true)
	d.Replay([]string{"front", "back"})
	d.Replay([]string{"front"}) // replayed once only
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventLocked, 4)}, nil)
	d.Stop()
	var got []string
	for _, ev := range rec.all() {
		got = append(got, fmt.Sprintf("%s/%v", ev.Kind, ev.Replayed))
	}
	if want := "keypad_unlock/true battery/true locked/false"; strings.Join(got, " ") != want {
		t.Fatalf("recorded %v, want %s (no state report replayed)", got, want)
	}
}

func TestDeliveryReplaysKeptEventsFirst(t *testing.T) {
	rec := &recorder{}
	var owns atomic.Bool
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, Owns: func(string) bool { return owns.Load() }})
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventKeypadUnlock, 1)}, nil)
	owns.Store(true)
	// A report of the lock arrives before the takeover replays: the kept
	// one still goes first.
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventLocked, 2)}, nil)
	d.Replay([]string{"front"})
	d.Stop()
	got := rec.all()
	if len(got) != 2 || got[0].Kind != sparekey.EventKeypadUnlock || !got[0].Replayed || got[1].Replayed {
		t.Fatalf("recorded %+v, want the kept keypad unlock (replayed) before the lock's later report", got)
	}
}

func TestDeliveryForgetsOldKeptEvents(t *testing.T) {
	rec := &recorder{}
	var owns atomic.Bool
	d := startDelivery(t, device.DeliveryConfig{Recorder: rec, KeepFor: 30 * time.Millisecond, Owns: func(string) bool { return owns.Load() }})
	d.Deliver("front", []sparekey.DeviceEvent{event("front", sparekey.EventKeypadUnlock, 1)}, nil)
	time.Sleep(60 * time.Millisecond)
	owns.Store(true)
	d.Replay([]string{"front"})
	d.Stop()
	if n := len(rec.all()); n != 0 {
		t.Fatalf("%d events replayed older than KeepFor", n)
	}
}

// A hub that reports more than a shard holds before the delivery starts
// waits for Start (backpressure), and Start is not held up by it: the
// sender used to hold the lock Start needs.
func TestDeliveryFullBeforeStart(t *testing.T) {
	rec := &recorder{}
	d := device.NewDelivery(device.DeliveryConfig{Recorder: rec})
	const n = 3000 // more than one shard's queue
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			d.Deliver("unit-101-front", []sparekey.DeviceEvent{event("unit-101-front", sparekey.EventLocked, i)}, nil)
		}
	}()
	other := make(chan struct{})
	go func() { // another lock's events and a replay are not held behind the full shard
		d.Replay([]string{"unit-102-front"})
		close(other)
	}()
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		t.Fatal("Replay waited behind another lock's full shard")
	}
	started := make(chan struct{})
	go func() {
		d.Start(context.Background())
		close(started)
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("Start waited behind a sender blocked on a full shard")
	}
	<-sent
	d.Stop()
	if got := len(rec.all()); got != n {
		t.Errorf("%d events recorded, want %d", got, n)
	}
}

// A delivery stopped without having started records what it accepted.
func TestDeliveryStopWithoutStart(t *testing.T) {
	rec := &recorder{}
	d := device.NewDelivery(device.DeliveryConfig{Recorder: rec})
	acked := false
	d.Deliver("unit-101-front", []sparekey.DeviceEvent{event("unit-101-front", sparekey.EventLocked, 1)}, func() { acked = true })
	d.Stop()
	if len(rec.all()) != 1 || !acked {
		t.Errorf("recorded %d events, acked %v; want 1 recorded and acked", len(rec.all()), acked)
	}
}
