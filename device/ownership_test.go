package device_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/device"
	"sparekey/internal/testkit"
	"sparekey/roster"
)

// members is a Membership that owns the locks in its set.
type members struct {
	mu     sync.Mutex
	owned  map[string]bool
	lapses int
}

func (m *members) Owns(device string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned[device]
}

func (m *members) Lapses() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lapses
}

func (m *members) set(lapses int, devices ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lapses, m.owned = lapses, map[string]bool{}
	for _, d := range devices {
		m.owned[d] = true
	}
}

// retrier records what it was asked to retry.
type retrier struct {
	mu      sync.Mutex
	locks   [][]string
	pending int
}

func (r *retrier) RetryLocks(_ context.Context, devices []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.locks = append(r.locks, devices)
	return nil
}

func (r *retrier) RetryPending(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending++
	return nil
}

// flakyStore fails its first fails reads, as a database still away after
// a lapse does.
type flakyStore struct {
	sparekey.Store
	fails atomic.Int32
}

func (s *flakyStore) Read(ctx context.Context, fn func(sparekey.Tx) error) error {
	if s.fails.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	return s.Store.Read(ctx, fn)
}

type ownershipBundle struct {
	ownership *device.Ownership
	members   *members
	events    *device.Delivery
	recorder  *recorder
	driver    *fakeDriver
	codes     *retrier
	store     *flakyStore
	locks     []string // the demo's, sorted
}

// setupOwnership is the demo's locks in a real store, and an Ownership
// over them with fakes for everything above the store.
func setupOwnership(t *testing.T) *ownershipBundle {
	t.Helper()
	db := testkit.OpenDB(t)
	testkit.Demo(t, db, sparekey.SystemClock{}, access.Config{})
	b := &ownershipBundle{members: &members{}, recorder: &recorder{}, driver: &fakeDriver{}, codes: &retrier{}, store: &flakyStore{Store: db}}
	for _, e := range roster.Demo {
		b.locks = append(b.locks, e.Lock)
	}
	slices.Sort(b.locks)
	b.locks = slices.Compact(b.locks)
	b.events = startDelivery(t, device.DeliveryConfig{Recorder: b.recorder, Owns: b.members.Owns})
	reg := device.NewRegistry()
	reg.Register("", b.driver)
	b.ownership = device.NewOwnership(device.OwnershipConfig{Store: b.store, Members: b.members, Drivers: reg, Codes: b.codes,
		Events: b.events, Wait: func(int) time.Duration { return time.Millisecond }})
	return b
}

func TestOwnershipTakesOverGainedLocks(t *testing.T) {
	b := setupOwnership(t)
	ctx := context.Background()
	a, c := b.locks[0], b.locks[2]
	b.members.set(0, a)
	if got := b.ownership.Rebalance(ctx); got != nil {
		t.Fatalf("first Rebalance took over %v; it only notes the locks", got)
	}
	// Another instance owns c; its keypad use is kept.
	b.events.Deliver(c, []sparekey.DeviceEvent{event(c, sparekey.EventKeypadUnlock, 1)}, nil)
	b.members.set(0, a, c) // that instance died
	if got := b.ownership.Rebalance(ctx); fmt.Sprint(got) != fmt.Sprint([]string{c}) {
		t.Fatalf("Rebalance took over %v, want [%s]", got, c)
	}
	b.events.Stop()
	if got := b.recorder.all(); len(got) != 1 || !got[0].Replayed || got[0].Device != c {
		t.Fatalf("recorded %+v, want %s's kept keypad use replayed", got, c)
	}
	if fmt.Sprint(b.driver.refreshed) != fmt.Sprint([]string{c}) {
		t.Errorf("asked %v for their state, want [%s]", b.driver.refreshed, c)
	}
	if fmt.Sprint(b.codes.locks) != fmt.Sprint([][]string{{c}}) {
		t.Errorf("retried codes of %v, want [[%s]]", b.codes.locks, c)
	}
	if got := b.ownership.Rebalance(ctx); got != nil {
		t.Errorf("Rebalance with nothing changed took over %v", got)
	}
}

func TestOwnershipRetakesLocksAfterALapse(t *testing.T) {
	b := setupOwnership(t)
	ctx := context.Background()
	b.members.set(0, b.locks...)
	b.ownership.Rebalance(ctx)
	// The heartbeat lapsed, the database is still slow, and the instance
	// is back owning the same locks: they were someone else's meanwhile.
	b.store.fails.Store(2)
	b.members.set(1, b.locks...)
	got := b.ownership.Rebalance(ctx)
	slices.Sort(got)
	testkit.SameList(t, "locks taken back after the lapse", got, b.locks)
	if len(b.codes.locks) != 1 {
		t.Errorf("RetryLocks called %d times, want once", len(b.codes.locks))
	}
}

func TestOwnershipGivesUpListingWhenStopped(t *testing.T) {
	b := setupOwnership(t)
	b.store.fails.Store(1 << 20)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if got := b.ownership.Rebalance(ctx); got != nil {
		t.Fatalf("Rebalance without a database took over %v", got)
	}
}

func TestOwnershipReconnectedReadsOwnLocks(t *testing.T) {
	b := setupOwnership(t)
	b.members.set(0, b.locks[0], b.locks[1])
	b.ownership.Reconnected(context.Background())
	slices.Sort(b.driver.refreshed)
	testkit.SameList(t, "locks asked for their state", b.driver.refreshed, b.locks[:2])
	if b.codes.pending != 1 {
		t.Errorf("RetryPending called %d times, want once", b.codes.pending)
	}

	// The hub goes away again mid-way: the rest wait for the next connection.
	b.driver.refreshed, b.driver.failAfter = nil, 2
	b.members.set(0, b.locks...)
	b.ownership.Reconnected(context.Background())
	if len(b.driver.refreshed) != 1 || b.codes.pending != 2 {
		t.Errorf("after a failed state read: refreshed %v, RetryPending %d times; want one lock and a retry", b.driver.refreshed, b.codes.pending)
	}
}
