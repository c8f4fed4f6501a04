package sim

import (
	"context"
	"log/slog"
	"time"

	"sparekey"
	"sparekey/device"
)

// DemoConfig configures a Demo.
type DemoConfig struct {
	// Store holds the locks to give twins, and shows when their reports
	// were recorded.
	Store sparekey.Store
	Clock sparekey.Clock
	// BaseTopic is the Zigbee2MQTT base topic the bridge speaks on.
	BaseTopic string
	// SlotCount is the slot count of a lock first seen when it is
	// programmed (imported while the demo runs).
	SlotCount int
	Logger    *slog.Logger
}

// Preloader gives a lock the codes it should hold (access.Reconciler).
type Preloader interface {
	Preload(ctx context.Context, device string, program func(slot int, code string) error) error
}

// Demo is the demo's locks: an embedded MQTT broker, a virtual twin of
// every lock in the database, and the bridge that makes them speak like
// Zigbee2MQTT, so the demo runs the same Zigbee2MQTT driver as a real
// installation. Its Keypad and SetState change a virtual lock and answer
// once Sparekey has recorded what the lock reported.
type Demo struct {
	cfg    DemoConfig
	log    *slog.Logger
	broker *Broker
	fleet  *Fleet
	bridge *Bridge // nil until Start
}

// StartDemo starts the embedded broker, with no locks on it yet.
func StartDemo(cfg DemoConfig) (*Demo, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := StartBroker("127.0.0.1:0", cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Demo{cfg: cfg, log: cfg.Logger, broker: b, fleet: New(cfg.Clock)}, nil
}

// BrokerURL is where the demo's locks talk.
func (d *Demo) BrokerURL() string { return d.broker.URL() }

// Start gives every lock in the database a virtual twin holding the codes
// codes says it should, then puts the fleet on the broker and returns once
// the locks are announced there. A real lock keeps its codes while the
// server restarts; the virtual one starts empty, so it is given what it
// should hold, as if installed that way.
func (d *Demo) Start(ctx context.Context, codes Preloader) error {
	var locks []*sparekey.Lock
	err := d.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		locks, err = tx.Locks(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for _, l := range locks {
		if device.Scheme(l.Device) != "" {
			continue // a lock of another driver (zwave://…) is real even in the demo
		}
		d.fleet.Add(l.Device, l.SlotCount)
		err := codes.Preload(ctx, l.Device, func(slot int, code string) error {
			return d.fleet.SetPIN(ctx, l.Device, slot, code)
		})
		if err != nil {
			return err
		}
	}
	d.bridge, err = StartBridge(ctx, d.fleet, BridgeConfig{Broker: d.broker.URL(), BaseTopic: d.cfg.BaseTopic, Logger: d.log})
	if err != nil {
		return err
	}
	// The bridge subscribes to the locks' commands after it connected: a
	// command sent before that would be lost, so wait until every lock is
	// announced (the embedded broker answers at once).
	wait := time.NewTimer(announceWait)
	defer wait.Stop()
	select {
	case <-d.bridge.Announced():
	case <-wait.C:
		d.log.Warn("the demo's locks are not announced yet; their commands may fail until they are", "waited", announceWait)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// announceWait bounds Start's wait for the bridge to announce the locks.
const announceWait = 5 * time.Second

// Stop takes the locks off the broker and closes it.
func (d *Demo) Stop() {
	if d.bridge != nil {
		d.bridge.Stop()
	}
	d.broker.Close()
}

// Driver wraps the driver that reaches the demo's locks: a lock programmed
// for the first time gets a virtual twin, so locks imported while the demo
// runs have one too.
func (d *Demo) Driver(inner device.Driver) device.Driver { return &twinning{Driver: inner, demo: d} }

type twinning struct {
	device.Driver
	demo *Demo
}

// Connected reports whether the inner driver holds its hub connection
// (the metrics and readiness read it through the device registry); a
// driver without one counts as connected.
func (t *twinning) Connected() bool {
	if c, ok := t.Driver.(interface{ Connected() bool }); ok {
		return c.Connected()
	}
	return true
}

func (t *twinning) ensure(ctx context.Context, device string) {
	d := t.demo
	if d.fleet.Add(device, d.cfg.SlotCount) && d.bridge != nil {
		d.bridge.Announce(ctx, device)
	}
}

func (t *twinning) SetPIN(ctx context.Context, device string, slot int, code string) error {
	t.ensure(ctx, device)
	return t.Driver.SetPIN(ctx, device, slot, code)
}

func (t *twinning) ClearPIN(ctx context.Context, device string, slot int) error {
	t.ensure(ctx, device)
	return t.Driver.ClearPIN(ctx, device, slot)
}

// Keypad types a code on a virtual lock, then waits (up to 3 s) until
// Sparekey has recorded what the lock reported, so the dev endpoint
// answers after the server knows, as a test driving it expects.
func (d *Demo) Keypad(ctx context.Context, device, code string) (KeypadResult, error) {
	var res KeypadResult
	err := d.andWait(ctx, device, func() (err error) {
		res, err = d.fleet.Keypad(device, code)
		return err
	})
	return res, err
}

// SetState changes a virtual lock as the world would, and waits like
// Keypad. Jamming a lock that is jammed already is a new jam: the lock
// reports the old one cleared first, as if someone freed the bolt in
// between, so "jam it three times" means three jams however the caller
// spells it.
func (d *Demo) SetState(ctx context.Context, device string, change StateChange) error {
	if change.Jammed != nil && *change.Jammed {
		if st, err := d.fleet.Status(device); err == nil && st.Jammed && st.Online {
			cleared := false
			if err := d.andWait(ctx, device, func() error { return d.fleet.SetState(device, StateChange{Jammed: &cleared}) }); err != nil {
				return err
			}
		}
	}
	return d.andWait(ctx, device, func() error { return d.fleet.SetState(device, change) })
}

// recordWait bounds andWait: a dev endpoint answers anyway after it.
const recordWait = 3 * time.Second

// andWait runs fn on a virtual lock and, when the lock reported, waits
// until the lock's report is recorded (its last_seen moved).
func (d *Demo) andWait(ctx context.Context, device string, fn func() error) error {
	if d.bridge == nil {
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is unreachable: the demo's locks are not started", device)
	}
	since := d.fleet.Clock().Now()
	before := d.bridge.Published(device)
	if err := fn(); err != nil {
		return err
	}
	if d.bridge.Published(device) == before {
		return nil // the lock said nothing (offline, or nothing changed)
	}
	deadline := time.Now().Add(recordWait)
	for time.Now().Before(deadline) {
		var seen *time.Time
		_ = d.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
			l, err := tx.LockByDevice(ctx, device)
			if err == nil {
				seen = l.LastSeen
			}
			return err
		})
		if seen != nil && !seen.Before(since) {
			// The last message of the report may still be on its way;
			// the device layer records one lock's events in order.
			time.Sleep(20 * time.Millisecond)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.log.Warn("virtual lock's report not recorded within 3s", "lock", device)
	return nil
}
