package device_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"sparekey"
	"sparekey/device"
)

// fakeDriver records the commands it was given.
type fakeDriver struct {
	mu        sync.Mutex
	calls     []string
	offline   bool // Connected says false
	refreshed []string
	failAfter int // Refresh fails from this call on; 0: never
}

func (f *fakeDriver) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}

func (f *fakeDriver) SetPIN(_ context.Context, d string, slot int, code string) error {
	return f.note("set " + d + " " + code)
}
func (f *fakeDriver) ClearPIN(_ context.Context, d string, slot int) error {
	return f.note("clear " + d)
}
func (f *fakeDriver) Lock(_ context.Context, d string) error   { return f.note("lock " + d) }
func (f *fakeDriver) Unlock(_ context.Context, d string) error { return f.note("unlock " + d) }
func (f *fakeDriver) Connected() bool                          { return !f.offline }

func (f *fakeDriver) Refresh(_ context.Context, d string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAfter > 0 && len(f.refreshed) >= f.failAfter-1 {
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "hub gone")
	}
	f.refreshed = append(f.refreshed, d)
	return nil
}

func (f *fakeDriver) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func TestScheme(t *testing.T) {
	for _, tc := range []struct{ device, want string }{
		{"unit-101-front", ""},
		{"floor 1/back door", ""},
		{"zwave://home/5", "zwave"},
		{"ZWave://home/5", "zwave"},
		{"seam://abc-123", "seam"},
		{"x+y.z-1://d", "x+y.z-1"},
		{"://nothing", ""},
		{"1zwave://home/5", ""},
		{"door: left://x", ""},
	} {
		if got := device.Scheme(tc.device); got != tc.want {
			t.Errorf("Scheme(%q) = %q, want %q", tc.device, got, tc.want)
		}
	}
}

func TestRegistryRoutesByScheme(t *testing.T) {
	r := device.NewRegistry()
	z2m, zwave := &fakeDriver{}, &fakeDriver{}
	r.Register("", z2m)
	r.Register("zwave", zwave)
	ctx := context.Background()
	for _, err := range []error{
		r.SetPIN(ctx, "unit-101-front", 0, "482916"),
		r.SetPIN(ctx, "zwave://home/5", 1, "590273"),
		r.ClearPIN(ctx, "zwave://home/5", 1),
		r.Lock(ctx, "unit-101-front"),
		r.Unlock(ctx, "zwave://home/5"),
		r.Refresh(ctx, "zwave://home/7"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(z2m.got(), ","), "set unit-101-front 482916,lock unit-101-front"; got != want {
		t.Errorf("Zigbee2MQTT driver got %q, want %q", got, want)
	}
	if got, want := strings.Join(zwave.got(), ","), "set zwave://home/5 590273,clear zwave://home/5,unlock zwave://home/5"; got != want {
		t.Errorf("Z-Wave driver got %q, want %q", got, want)
	}
	if len(zwave.refreshed) != 1 || zwave.refreshed[0] != "zwave://home/7" {
		t.Errorf("Z-Wave driver refreshed %v", zwave.refreshed)
	}
}

func TestRegistryWithoutDriverIsOffline(t *testing.T) {
	ctx := context.Background()
	none := device.NewRegistry()
	err := none.SetPIN(ctx, "unit-101-front", 0, "482916")
	if sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE || !strings.Contains(err.Error(), "no lock adapter is configured") {
		t.Errorf("no driver at all: %v, want lock_offline saying no adapter is configured", err)
	}
	if err := none.Refresh(ctx, "unit-101-front"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
		t.Errorf("Refresh without a driver: %v", err)
	}

	r := device.NewRegistry()
	r.Register("", &fakeDriver{})
	err = r.Unlock(ctx, "seam://lock-1")
	if sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE || !strings.Contains(err.Error(), "seam://") {
		t.Errorf("unknown scheme: %v, want lock_offline naming seam://", err)
	}
	r = device.NewRegistry()
	r.Register("zwave", &fakeDriver{})
	if err := r.Lock(ctx, "unit-101-front"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE || !strings.Contains(err.Error(), "Zigbee2MQTT") {
		t.Errorf("plain name without a Zigbee2MQTT driver: %v", err)
	}
}

func TestRegistryConnected(t *testing.T) {
	r := device.NewRegistry()
	if !r.Connected() {
		t.Error("a registry with no drivers waits on no connection")
	}
	a, b := &fakeDriver{}, &fakeDriver{offline: true}
	r.Register("", a)
	if !r.Connected() {
		t.Error("Connected = false with its one driver connected")
	}
	r.Register("zwave", b)
	if r.Connected() {
		t.Error("Connected = true with one driver offline")
	}
}

// hubDriver reaches its locks through one connection per hub.
type hubDriver struct{ fakeDriver }

func (*hubDriver) Hub(d string) string { return device.HubOf(d) }

// keyMembers owns exactly the keys it holds.
type keyMembers map[string]bool

func (m keyMembers) Owns(key string) bool { return m[key] }
func (keyMembers) Lapses() int            { return 0 }

func TestHubOf(t *testing.T) {
	for _, tc := range []struct{ device, want string }{
		{"zwave://bldg-a/12", "zwave://bldg-a"},
		{"zwave://bldg-a", "zwave://bldg-a"},
		{"seam://abc-123", "seam://abc-123"},
		{"unit-101-front", "unit-101-front"},
		{"floor 1/back door", "floor 1/back door"},
	} {
		if got := device.HubOf(tc.device); got != tc.want {
			t.Errorf("HubOf(%q) = %q, want %q", tc.device, got, tc.want)
		}
	}
}

func TestLocksOfAHubAreOwnedTogether(t *testing.T) {
	r := device.NewRegistry()
	r.Register("", &fakeDriver{})
	r.Register("zwave", &hubDriver{})
	r.Register("seam", &fakeDriver{})

	// Locks of one hub share one key; the others are their own.
	if a, b := r.OwnerKey("zwave://bldg-a/12"), r.OwnerKey("zwave://bldg-a/13"); a != b {
		t.Errorf("locks of one hub have keys %q and %q", a, b)
	}
	if a, b := r.OwnerKey("zwave://bldg-a/12"), r.OwnerKey("zwave://bldg-b/12"); a == b {
		t.Errorf("locks of two hubs share the key %q", a)
	}
	for _, d := range []string{"unit-101-front", "seam://abc"} {
		if got := r.OwnerKey(d); got != d {
			t.Errorf("OwnerKey(%q) = %q, want the lock itself", d, got)
		}
	}

	members := keyMembers{r.OwnerKey("zwave://bldg-a/1"): true, "unit-101-front": true}
	owns := r.Owning(members)
	for d, want := range map[string]bool{
		"zwave://bldg-a/12": true, "zwave://bldg-a/99": true, "zwave://bldg-b/12": false,
		"unit-101-front": true, "unit-102-front": false, "seam://abc": false,
	} {
		if got := owns.Owns(d); got != want {
			t.Errorf("Owning(members).Owns(%q) = %v, want %v", d, got, want)
		}
	}
	if !r.OwnsHub(members, "zwave://bldg-a") || r.OwnsHub(members, "zwave://bldg-b") {
		t.Error("OwnsHub disagrees with the locks' owner")
	}
}
