package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/cluster"
	"sparekey/device"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/z2m"
)

// devices is the lock side of a running server: the Zigbee2MQTT adapter on
// a broker, and in the demo the virtual locks behind it with the embedded
// broker they share.
type devices struct {
	adapter *z2m.Adapter
	broker  *sim.Broker // the demo's embedded broker; nil with --mqtt
	fleet   *sim.Fleet  // the demo's virtual locks; nil with --mqtt
	bridge  *sim.Bridge
	db      sparekey.Store
	log     *slog.Logger
	member  *cluster.Member // which locks this instance owns
	events  *device.Delivery

	mu       sync.Mutex
	owned    map[string]bool // the locks this instance owned at the last rebalance
	balanced bool            // rebalance ran once: owned is known
	lapses   int             // member.Lapses at the last rebalance
}

// newDevices prepares the adapter (not connected yet) and, for the demo
// without --mqtt, the embedded broker and an empty fleet.
func newDevices(c *serveConfig, db sparekey.Store, clock sparekey.Clock, log *slog.Logger, member *cluster.Member, events *device.Delivery, connected func()) (*devices, error) {
	d := &devices{db: db, log: log, member: member, owned: map[string]bool{}, events: events}
	broker := c.mqtt
	// An external broker keeps our session for an hour: lock events sent
	// while Sparekey restarts wait there. The demo's broker starts empty.
	expiry := time.Hour
	if c.demo && c.mqtt == "" {
		expiry = 0
		b, err := sim.StartBroker("127.0.0.1:0", log)
		if err != nil {
			return nil, err
		}
		d.broker = b
		d.fleet = sim.New(clock)
		broker = b.URL()
	}
	a, err := z2m.New(z2m.Config{Broker: broker, BaseTopic: c.mqttTopic, ClientID: c.mqttClientID, SessionExpiry: expiry,
		Events: events, OnConnect: connected,
		Clock: clock, Logger: log})
	if err != nil {
		d.close()
		return nil, fmt.Errorf("--mqtt: %w", err)
	}
	d.adapter = a
	return d, nil
}

// driver is what the access service programs locks through.
func (d *devices) driver() sparekey.LockDriver {
	if d.fleet != nil {
		return &simDriver{LockDriver: d.adapter, devices: d}
	}
	return d.adapter
}

// start gives every lock in the database a virtual twin (demo), puts the
// fleet on the broker and connects the adapter.
func (d *devices) start(ctx context.Context, codes *access.Service) error {
	if d.fleet != nil {
		var locks []*sparekey.Lock
		err := d.db.Read(ctx, func(tx sparekey.Tx) (err error) {
			locks, err = tx.Locks(ctx)
			return err
		})
		if err != nil {
			return err
		}
		for _, l := range locks {
			d.fleet.Add(l.Device, l.SlotCount)
			// A real lock keeps its codes while the server restarts; the
			// virtual one starts empty, so it is given what it should
			// hold, as if installed that way.
			err := codes.Reconciler.Preload(ctx, l.Device, func(slot int, code string) error {
				return d.fleet.SetPIN(ctx, l.Device, slot, code)
			})
			if err != nil {
				return err
			}
		}
		if d.bridge, err = sim.StartBridge(ctx, d.fleet, sim.BridgeConfig{Broker: d.broker.URL(), BaseTopic: d.adapter.BaseTopic(), Logger: d.log}); err != nil {
			return err
		}
	}
	if err := d.adapter.Connect(ctx); err != nil {
		return fmt.Errorf("--mqtt: %w", err)
	}
	// The resident pages must work while the locks' hub is down (backup
	// codes are on the locks already): wait a little, then serve anyway.
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.adapter.WaitConnected(waitCtx); err != nil {
		d.log.Warn("MQTT broker not reachable yet; serving anyway and retrying in the background: locks cannot be reached until it answers",
			"broker", d.adapter.Broker(), "err", err)
	}
	return nil
}

func (d *devices) close() {
	if d.bridge != nil {
		d.bridge.Stop()
	}
	if d.adapter != nil {
		d.adapter.Stop()
	}
	d.events.Stop()
	if d.broker != nil {
		d.broker.Close()
	}
}

// refreshAll asks every lock this instance owns for its state and retries
// pending codes at once: the adapter just (re)connected and may have
// missed reports.
func (d *devices) refreshAll(ctx context.Context, codes *access.Service) {
	var locks []*sparekey.Lock
	err := d.db.Read(ctx, func(tx sparekey.Tx) (err error) {
		locks, err = tx.Locks(ctx)
		return err
	})
	if err != nil {
		d.log.Error("list locks after connecting", "err", err)
		return
	}
	for _, l := range locks {
		if !d.member.Owns(l.Device) {
			continue
		}
		if err := d.adapter.Refresh(ctx, l.Device); err != nil {
			d.log.Warn("ask lock for its state", "lock", l.Device, "err", err)
			break // the connection is gone again; the next one asks
		}
	}
	if err := codes.Reconciler.RetryPending(ctx); err != nil {
		d.log.Error("retry pending codes after connecting", "err", err)
	}
}

// rebalance follows a change in the instances sharing the locks, or this
// instance's return after a lapse in its heartbeat: locks it now owns get
// the reports it kept while another owned them, a state read, and their
// pending codes retried.
func (d *devices) rebalance(ctx context.Context, codes *access.Service) {
	// Nothing calls again until the instances change: a database still
	// slow after a lapse must not make the locks' kept reports wait that
	// long, so the list is asked for until it comes.
	var locks []*sparekey.Lock
	for attempt := 0; ; attempt++ {
		err := d.db.Read(ctx, func(tx sparekey.Tx) (err error) {
			locks, err = tx.Locks(ctx)
			return err
		})
		if err == nil {
			break
		}
		wait := min(time.Second<<min(attempt, 5), 30*time.Second)
		d.log.Error("list locks after the instances changed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	var gained []string
	d.mu.Lock()
	first := !d.balanced
	d.balanced = true
	// After a lapse in the heartbeat every lock was someone else's for a
	// while: the ones still ours are taken back like new ones.
	lapses := d.member.Lapses()
	lapsed := lapses != d.lapses
	d.lapses = lapses
	for _, l := range locks {
		now := d.member.Owns(l.Device)
		if now && (!d.owned[l.Device] || lapsed) && !first {
			gained = append(gained, l.Device)
		}
		d.owned[l.Device] = now
	}
	d.mu.Unlock()
	if len(gained) == 0 {
		return
	}
	d.log.Info("taking over locks", "locks", len(gained))
	d.events.Replay(gained)
	for _, device := range gained {
		if err := d.adapter.Refresh(ctx, device); err != nil {
			d.log.Warn("ask lock for its state", "lock", device, "err", err)
			break
		}
	}
	if err := codes.Reconciler.RetryLocks(ctx, gained); err != nil {
		d.log.Error("retry pending codes after taking over locks", "err", err)
	}
}

// keypad types a code on a virtual lock, then waits (up to 3 s) until
// Sparekey has recorded what the lock reported, so the dev endpoint
// answers after the server knows, as a test driving it expects.
func (d *devices) keypad(ctx context.Context, device, code string) (sparekey.KeypadResult, error) {
	var res sparekey.KeypadResult
	err := d.andWait(ctx, device, func() (err error) {
		res, err = d.fleet.Keypad(device, code)
		return err
	})
	return res, err
}

// setState changes a virtual lock as the world would, and waits like keypad.
// Jamming a lock that is jammed already is a new jam: the lock reports the
// old one cleared first, as if someone freed the bolt in between, so "jam
// it three times" means three jams however the caller spells it.
func (d *devices) setState(ctx context.Context, device string, change sim.StateChange) error {
	if change.Jammed != nil && *change.Jammed {
		if st, err := d.fleet.Status(device); err == nil && st.Jammed && st.Online {
			cleared := false
			if err := d.andWait(ctx, device, func() error { return d.fleet.SetState(device, sim.StateChange{Jammed: &cleared}) }); err != nil {
				return err
			}
		}
	}
	return d.andWait(ctx, device, func() error { return d.fleet.SetState(device, change) })
}

func (d *devices) andWait(ctx context.Context, device string, fn func() error) error {
	since := d.fleet.Clock().Now()
	before := d.bridge.Published(device)
	if err := fn(); err != nil {
		return err
	}
	if d.bridge.Published(device) == before {
		return nil // the lock said nothing (offline, or nothing changed)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		var seen *time.Time
		_ = d.db.Read(ctx, func(tx sparekey.Tx) error {
			l, err := tx.LockByDevice(ctx, device)
			if err == nil {
				seen = l.LastSeen
			}
			return err
		})
		if seen != nil && !seen.Before(since) {
			// The last message of the report may still be on its way;
			// the adapter hands one lock's events over in order.
			time.Sleep(20 * time.Millisecond)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.log.Warn("virtual lock's report not recorded within 3s", "lock", device)
	return nil
}

// simDriver adds a virtual lock the first time one is programmed, so locks
// imported while the demo runs get a simulated twin too.
type simDriver struct {
	sparekey.LockDriver
	devices *devices
}

func (s *simDriver) ensure(ctx context.Context, device string) {
	d := s.devices
	if d.fleet.Add(device, roster.DefaultSlotCount) && d.bridge != nil {
		d.bridge.Announce(ctx, device)
	}
}

func (s *simDriver) SetPIN(ctx context.Context, device string, slot int, code string) error {
	s.ensure(ctx, device)
	return s.LockDriver.SetPIN(ctx, device, slot, code)
}

func (s *simDriver) ClearPIN(ctx context.Context, device string, slot int) error {
	s.ensure(ctx, device)
	return s.LockDriver.ClearPIN(ctx, device, slot)
}
