// Package device is the layer every lock driver shares. A driver (the
// Zigbee2MQTT adapter, later Z-Wave JS and Seam) only translates: Sparekey's
// commands into its hub's, its hub's reports into sparekey.DeviceEvents.
// Everything else lives here, once:
//
//   - Registry picks the driver for a lock by its address: a plain name is a
//     Zigbee2MQTT device, scheme://… belongs to the driver registered for it.
//   - Delivery hands reported events to the recorder in order per lock,
//     acknowledges them to the hub only after they are recorded, retries a
//     busy database, and keeps the events of locks another instance owns so
//     that they can be replayed when this one takes the lock over.
//   - Ownership follows the instances sharing the locks: it takes locks over
//     (replay, a state read, pending codes retried) and reads the state of
//     this instance's locks after a driver reconnects. A lock is owned on
//     its own, or with its hub when its driver keeps one connection per hub
//     (a HubDriver; Registry.Owning).
//   - Waiters lets a command wait for the lock's own report that confirms it.
package device

import (
	"context"
	"strings"
	"sync"

	"sparekey"
)

// Driver is a lock driver: a sparekey.LockDriver that can also ask a lock
// for its state.
type Driver interface {
	sparekey.LockDriver
	// Refresh asks the lock for its state; the answer arrives as events
	// like any other report. It does nothing while the hub is unreachable.
	Refresh(ctx context.Context, device string) error
}

// Registry is the lock driver of the whole server: it hands every command
// to the driver registered for the lock's address scheme. It is safe for
// concurrent use; drivers may be registered after it was handed out.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

var _ Driver = (*Registry)(nil)

// NewRegistry returns a registry with no drivers: every lock is offline
// until one is registered for its scheme.
func NewRegistry() *Registry { return &Registry{drivers: map[string]Driver{}} }

// Register makes d the driver of the locks whose address has scheme:
// "zwave" for zwave://…, "" for plain names (Zigbee2MQTT devices).
func (r *Registry) Register(scheme string, d Driver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drivers[scheme] = d
}

// Scheme is the scheme of a lock's address: "zwave" for zwave://home/5, ""
// for a plain name such as unit-101-front. A Zigbee2MQTT name may hold
// slashes and colons, so only letters, digits, "+", "-" and "." before
// "://" make a scheme.
func Scheme(device string) string {
	scheme, _, ok := strings.Cut(device, "://")
	if !ok || scheme == "" {
		return ""
	}
	for i, c := range scheme {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return ""
		}
	}
	return strings.ToLower(scheme)
}

// driver returns the driver of the lock, or ELOCKOFFLINE saying none is
// configured for it: the lock's codes then wait in the database as pending.
func (r *Registry) driver(device string) (Driver, error) {
	scheme := Scheme(device)
	r.mu.RLock()
	d, ok := r.drivers[scheme]
	none := len(r.drivers) == 0
	r.mu.RUnlock()
	switch {
	case ok:
		return d, nil
	case none:
		return nil, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is unreachable: no lock adapter is configured", device)
	case scheme == "":
		return nil, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is unreachable: no Zigbee2MQTT adapter is configured", device)
	}
	return nil, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is unreachable: no lock adapter is configured for %s:// addresses", device, scheme)
}

// SetPIN programs code into the slot through the lock's driver.
func (r *Registry) SetPIN(ctx context.Context, device string, slot int, code string) error {
	d, err := r.driver(device)
	if err != nil {
		return err
	}
	return d.SetPIN(ctx, device, slot, code)
}

// ClearPIN empties the slot through the lock's driver.
func (r *Registry) ClearPIN(ctx context.Context, device string, slot int) error {
	d, err := r.driver(device)
	if err != nil {
		return err
	}
	return d.ClearPIN(ctx, device, slot)
}

// Lock throws the bolt through the lock's driver.
func (r *Registry) Lock(ctx context.Context, device string) error {
	d, err := r.driver(device)
	if err != nil {
		return err
	}
	return d.Lock(ctx, device)
}

// Unlock draws the bolt through the lock's driver.
func (r *Registry) Unlock(ctx context.Context, device string) error {
	d, err := r.driver(device)
	if err != nil {
		return err
	}
	return d.Unlock(ctx, device)
}

// Refresh asks the lock for its state through its driver.
func (r *Registry) Refresh(ctx context.Context, device string) error {
	d, err := r.driver(device)
	if err != nil {
		return err
	}
	return d.Refresh(ctx, device)
}

// Connected reports whether every registered driver that keeps a
// connection to its hub (one with a Connected method) has it.
func (r *Registry) Connected() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, d := range r.drivers {
		if c, ok := d.(interface{ Connected() bool }); ok && !c.Connected() {
			return false
		}
	}
	return true
}

// A HubDriver reaches its locks through one connection per hub (a Z-Wave
// JS server): among instances sharing the locks, the one that owns a hub
// holds its connection and records the reports of every lock on it, so the
// locks of one hub are owned together. A driver that reaches each lock on
// its own (Zigbee2MQTT's broker carries every lock to every instance) is
// not one.
type HubDriver interface {
	Driver
	// Hub names the hub connection the lock is reached through, e.g.
	// "zwave://bldg-a" for zwave://bldg-a/12 (HubOf says it that way).
	Hub(device string) string
}

// HubOf is the hub part of a scheme://HUB/… address ("zwave://bldg-a" for
// zwave://bldg-a/12), or the address itself when it has no such part.
func HubOf(device string) string {
	scheme := Scheme(device)
	if scheme == "" {
		return device
	}
	rest := device[len(scheme)+len("://"):]
	hub, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + hub
}

// OwnerKey is what instances divide among themselves for the lock: its hub
// connection when its driver is a HubDriver, else the lock itself.
func (r *Registry) OwnerKey(device string) string {
	r.mu.RLock()
	d, ok := r.drivers[Scheme(device)]
	r.mu.RUnlock()
	if h, isHub := d.(HubDriver); ok && isHub {
		return "hub " + h.Hub(device)
	}
	return device
}

// Owning returns m asked about each lock's OwnerKey instead of the lock:
// every part that asks whether this instance owns a lock (the delivery of
// its events, the takeover, the reconciler) must ask it, so that they agree
// on the locks of a hub.
func (r *Registry) Owning(m Membership) Membership { return owning{m, r} }

type owning struct {
	Membership
	r *Registry
}

func (o owning) Owns(device string) bool { return o.Membership.Owns(o.r.OwnerKey(device)) }

// OwnsHub reports whether this instance owns the hub connection (as
// HubDriver.Hub names it), and should therefore hold it.
func (r *Registry) OwnsHub(m Membership, hub string) bool { return m.Owns("hub " + hub) }
