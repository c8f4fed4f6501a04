package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/cluster"
	"sparekey/device"
	"sparekey/metrics"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/z2m"
	"sparekey/zwave"
)

// hub is the lock side of a running server: the Zigbee2MQTT adapter on a
// broker and, in the demo without --mqtt, the simulated locks behind it;
// the Z-Wave JS driver with --zwave; the device layer's delivery of their
// events and the ownership of locks among instances. A nil hub has no locks.
type hub struct {
	adapter *z2m.Adapter  // nil with only --zwave
	zwave   *zwave.Driver // nil without --zwave
	demo    *sim.Demo     // nil with --mqtt
	events  *device.Delivery
	owners  *device.Ownership
	log     *slog.Logger
}

// hasHub says whether serve reaches locks at all.
func hasHub(c *serveConfig) bool { return c.demo || c.mqtt != "" || len(c.zwave) > 0 }

// newHub prepares the adapter (not connected yet) and, for the demo
// without --mqtt, the embedded broker, and registers the adapter as the
// driver of plain lock names. Nil without --mqtt or --demo.
func newHub(c *serveConfig, db sparekey.Store, clock sparekey.Clock, log *slog.Logger, member *cluster.Member,
	owners device.Membership, locks *device.Registry, acc *access.Service, meters *metrics.Metrics) (*hub, error) {
	if !hasHub(c) {
		log.Warn("no lock adapter: locks are unreachable and codes wait as pending; start with --mqtt for Zigbee2MQTT locks or --demo for simulated ones")
		return nil, nil
	}
	bg := context.Background()
	h := &hub{log: log}
	h.events = device.NewDelivery(device.DeliveryConfig{Recorder: acc.Recorder, Recorded: meters.DeviceEvent, Owns: owners.Owns,
		KeepFor: max(time.Minute, 3*c.instanceTTL), Logger: log})
	h.owners = device.NewOwnership(device.OwnershipConfig{Store: db, Members: owners, Drivers: locks, Codes: acc.Reconciler,
		Events: h.events, Logger: log})
	member.OnChange(func() { h.owners.Rebalance(bg) })
	zw, err := newZWave(zwave.Config{Hubs: c.zwave, TLS: c.zwaveTLS, PingEvery: c.zwavePing, Events: h.events,
		OnConnect: func() { h.owners.Reconnected(bg) }, Clock: clock, Logger: log}, locks)
	if err != nil {
		return nil, err
	}
	h.zwave = zw
	if !c.demo && c.mqtt == "" {
		return h, nil // Z-Wave locks only
	}
	broker := c.mqtt
	// An external broker keeps our session for an hour: lock events sent
	// while Sparekey restarts wait there. The demo's broker starts empty.
	expiry := time.Hour
	if c.mqtt == "" {
		expiry = 0
		demo, err := sim.StartDemo(sim.DemoConfig{Store: db, Clock: clock, BaseTopic: c.mqttTopic,
			SlotCount: roster.DefaultSlotCount, Logger: log})
		if err != nil {
			return nil, err
		}
		h.demo = demo
		broker = demo.BrokerURL()
	}
	a, err := z2m.New(z2m.Config{Broker: broker, BaseTopic: c.mqttTopic, ClientID: c.mqttClientID, SessionExpiry: expiry,
		Events: h.events, OnConnect: func() { h.owners.Reconnected(bg) }, Clock: clock, Logger: log})
	if err != nil {
		h.close()
		return nil, fmt.Errorf("--mqtt: %w", err)
	}
	h.adapter = a
	var driver device.Driver = a
	if h.demo != nil {
		driver = h.demo.Driver(a)
	}
	locks.Register("", driver)
	return h, nil
}

// start notes which locks are this instance's (the member has started),
// starts recording events, puts the demo's locks, holding the codes they
// should, on the broker and connects the adapter.
func (h *hub) start(ctx context.Context, codes sim.Preloader) error {
	if h == nil {
		return nil
	}
	h.owners.Rebalance(ctx)
	h.events.Start(context.WithoutCancel(ctx))
	if h.demo != nil {
		if err := h.demo.Start(ctx, codes); err != nil {
			return err
		}
	}
	if h.zwave != nil {
		h.zwave.Start(ctx)
	}
	if h.adapter == nil {
		return nil
	}
	if err := h.adapter.Connect(ctx); err != nil {
		return fmt.Errorf("--mqtt: %w", err)
	}
	// The resident pages must work while the locks' hub is down (backup
	// codes are on the locks already): wait a little, then serve anyway.
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.adapter.WaitConnected(waitCtx); err != nil {
		h.log.Warn("MQTT broker not reachable yet; serving anyway and retrying in the background: locks cannot be reached until it answers",
			"broker", h.adapter.Broker(), "err", err)
	}
	return nil
}

// close takes the adapter off the broker, records what it had handed
// over, and stops the demo's locks.
func (h *hub) close() {
	if h == nil {
		return
	}
	if h.adapter != nil {
		h.adapter.Stop()
	}
	if h.zwave != nil {
		h.zwave.Stop()
	}
	h.events.Stop()
	if h.demo != nil {
		h.demo.Stop()
	}
}

// brokers returns the demo's embedded broker, or else the external one
// (without its password), for the banner.
func (h *hub) brokers() (embedded, external string) {
	switch {
	case h == nil || h.adapter == nil:
		return "", ""
	case h.demo != nil:
		return h.demo.BrokerURL(), ""
	}
	return "", h.adapter.Broker()
}
