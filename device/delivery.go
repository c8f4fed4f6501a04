package device

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"sparekey"
)

// Recorder records what a lock reported (access.Recorder).
type Recorder interface {
	HandleEvent(ctx context.Context, ev sparekey.DeviceEvent) error
}

// DeliveryConfig configures a Delivery.
type DeliveryConfig struct {
	// Recorder records every event of the locks this instance owns.
	Recorder Recorder
	// Owns says whether this instance records the lock's events, when
	// several instances share the locks (cluster.Member.Owns). The events
	// of other instances' locks are kept for KeepFor instead. nil: every
	// lock is this instance's.
	Owns func(device string) bool
	// KeepFor is how long other owners' events are kept for Replay: longer
	// than it takes to notice a dead owner. Default 1m.
	KeepFor time.Duration
	// Recorded, when set, is told of every event recorded (metrics).
	Recorded func(sparekey.DeviceEvent)
	// Tries is how many times an event is offered to the Recorder before
	// it is logged as lost: a database busy with a large import must not
	// drop a keypad use, which would leave a used backup code valid.
	// Default 5.
	Tries int
	// Backoff is the wait after the n-th failed try (n from 1). Default
	// n·200ms.
	Backoff func(n int) time.Duration
	Logger  *slog.Logger
}

// Delivery hands the events drivers report to the Recorder: one lock's
// events always in order, each acknowledged to its hub only after it was
// recorded. It is safe for concurrent use.
type Delivery struct {
	cfg DeliveryConfig
	log *slog.Logger

	// mu guards closed: it is held shared while events are put on a
	// shard, and exclusively while the shards are closed.
	mu     sync.RWMutex
	closed bool
	// order holds a shard while a lock's kept events and then its new ones
	// are put on it, so the kept ones go first.
	order  [deliveryShards]sync.Mutex
	shards []chan queued

	keptMu sync.Mutex
	kept   map[string][]keptEvent // other owners' recent events, by device

	startMu sync.Mutex
	started bool
	wg      sync.WaitGroup
}

// deliveryShards is how many goroutines record events. A lock's events
// always go through the same one, which keeps them in order.
const deliveryShards = 4

// shardQueue is how many events wait on one shard before Deliver blocks:
// a full shard holds the hub's reader back (backpressure, not loss).
const shardQueue = 1024

// queued is an event waiting to be recorded; ack, on the last event of a
// hub message, acknowledges the message once the event is recorded.
type queued struct {
	event sparekey.DeviceEvent
	ack   func()
}

// NewDelivery returns a delivery that queues events until Start.
func NewDelivery(cfg DeliveryConfig) *Delivery {
	if cfg.KeepFor <= 0 {
		cfg.KeepFor = time.Minute
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 5
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return time.Duration(n) * 200 * time.Millisecond }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Delivery{cfg: cfg, log: cfg.Logger, kept: map[string][]keptEvent{}}
	for range deliveryShards {
		d.shards = append(d.shards, make(chan queued, shardQueue))
	}
	return d
}

// Start records queued events until Stop, with ctx.
func (d *Delivery) Start(ctx context.Context) {
	d.startMu.Lock()
	defer d.startMu.Unlock()
	if d.started {
		return
	}
	d.started = true
	for _, ch := range d.shards {
		d.wg.Add(1)
		go d.run(ctx, ch)
	}
}

// Stop refuses new events and waits until every accepted one was
// recorded (or given up on) and acknowledged. A delivery never started
// records them now: a full shard's sender would wait for ever otherwise.
func (d *Delivery) Stop() {
	d.Start(context.Background())
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, ch := range d.shards {
			close(ch)
		}
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// Owns reports whether this instance records the lock's events.
func (d *Delivery) Owns(device string) bool { return d.cfg.Owns == nil || d.cfg.Owns(device) }

// Deliver takes the events one hub message meant for the lock, in the
// order they happened. ack (may be nil) runs once: after the last event
// was recorded, or at once when there is nothing to record here (no
// events, another instance's lock, a delivery that stopped). Events of a
// lock this instance does not own are kept for Replay; kept events of a
// lock it owns now go first, marked Replayed.
func (d *Delivery) Deliver(device string, events []sparekey.DeviceEvent, ack func()) {
	if ack == nil {
		ack = func() {}
	}
	if len(events) == 0 {
		ack()
		return
	}
	if !d.Owns(device) {
		d.keep(device, events)
		ack()
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.log.Warn("lock events not recorded: stopping", "device", device, "events", len(events))
		ack()
		return
	}
	i := shardOf(device)
	d.order[i].Lock()
	defer d.order[i].Unlock()
	d.enqueue(i, d.takeKept(device), nil)
	d.enqueue(i, events, ack)
}

// Replay hands over the events kept for locks this instance now owns
// (their owner died), marked Replayed, ahead of anything that arrives
// later for them. The recorder sees a replayed event perhaps recorded
// already by the dead owner and must take it once.
func (d *Delivery) Replay(devices []string) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return
	}
	for _, device := range devices {
		i := shardOf(device)
		d.order[i].Lock()
		d.enqueue(i, d.takeKept(device), nil)
		d.order[i].Unlock()
	}
}

// shardOf is the shard of the lock's events: always the same one.
func shardOf(device string) int {
	h := fnv.New32a()
	h.Write([]byte(device))
	return int(h.Sum32() % deliveryShards)
}

// enqueue puts events on shard i; ack goes with the last one. d.mu must
// be held shared and d.order[i] held.
func (d *Delivery) enqueue(i int, events []sparekey.DeviceEvent, ack func()) {
	ch := d.shards[i]
	for j, e := range events {
		q := queued{event: e}
		if j == len(events)-1 {
			q.ack = ack
		}
		ch <- q
	}
}

func (d *Delivery) run(ctx context.Context, ch chan queued) {
	defer d.wg.Done()
	for q := range ch {
		d.record(ctx, q.event)
		if q.ack != nil {
			q.ack()
		}
	}
}

// record offers the event to the Recorder until it takes it or the tries
// run out. A panic loses that event only, and is logged.
func (d *Delivery) record(ctx context.Context, ev sparekey.DeviceEvent) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("recording a lock event panicked; event dropped", "device", ev.Device, "kind", ev.Kind, "panic", r)
		}
	}()
	var err error
	for n := 1; n <= d.cfg.Tries; n++ {
		if err = d.cfg.Recorder.HandleEvent(ctx, ev); err == nil {
			if d.cfg.Recorded != nil {
				d.cfg.Recorded(ev)
			}
			return
		}
		if n == d.cfg.Tries {
			break
		}
		t := time.NewTimer(d.cfg.Backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	d.log.Error("lock event lost after retries", "device", ev.Device, "kind", ev.Kind, "err", err)
}
