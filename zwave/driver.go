// Package zwave is the lock driver for Z-Wave keypad locks behind Z-Wave
// JS: it speaks zwave-js-server's WebSocket API (the server of
// @zwave-js/server, or Z-Wave JS UI with its server on) to one server per
// hub, and addresses each lock as zwave://HUB/NODE (see docs/zwave-js.md).
//
// The Driver is a device.Driver. Codes live in User Code CC slots: Sparekey's
// 0-based slot n is the lock's userId n+1. SetPIN and ClearPIN count as done
// only when a read of the slot from the lock shows the change; Lock and
// Unlock set Door Lock CC targetMode and are done when the lock's
// currentMode shows it. What locks report (Notification CC Access Control
// events, the Lock state, currentMode, Battery, a node dead or alive)
// becomes sparekey.DeviceEvents, handed to the device layer's Delivery in
// order.
//
// The package is split by job: hub.go keeps one server's connection,
// translate.go turns its messages into events, commands.go sends commands
// and waits for their confirmation, message.go holds the message shapes.
package zwave

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"sparekey"
	"sparekey/device"
)

var _ device.HubDriver = (*Driver)(nil)

// Config configures a Driver.
type Config struct {
	// Hubs maps each hub's name (the HUB of zwave://HUB/NODE) to its Z-Wave
	// JS server's URL: ws:// or wss://.
	Hubs map[string]string
	// TLS, when set, is used for wss:// servers: a custom CA, a client
	// certificate.
	TLS *tls.Config
	// Events receives every event locks report. nil: events are dropped.
	Events *device.Delivery
	// OnConnect is called (on its own goroutine) each time a hub's state
	// dump was read after connecting or reconnecting: the moment to read
	// every lock's state and retry what failed while it was away.
	OnConnect func()
	// CommandTimeout is how long a command waits for its result and for
	// the lock to confirm it. Default 15s: a lock that sleeps between
	// beams answers in a second or two, and zwave-js retries.
	CommandTimeout time.Duration
	// PingEvery is how often a lock that reported nothing meanwhile is
	// pinged: zwave-js notices a dead node only when a command to it
	// fails. Default 30s, so a dead lock shows offline within a minute.
	PingEvery time.Duration
	// Backoff is the wait before the n-th (from 1) new attempt to reach a
	// hub. Default 1s, 2s, 4s… up to 30s, with jitter.
	Backoff func(n int) time.Duration
	Clock   sparekey.Clock
	Logger  *slog.Logger
}

// Driver talks to Z-Wave locks through their hubs' Z-Wave JS servers. It is
// safe for concurrent use.
type Driver struct {
	cfg     Config
	log     *slog.Logger
	http    *http.Client
	hubs    map[string]*hub
	waiters device.Waiters[report]

	stopOnce sync.Once
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New checks the configuration and returns a driver that is not connected
// yet: commands fail with ELOCKOFFLINE until Start has reached the hub.
func New(cfg Config) (*Driver, error) {
	if len(cfg.Hubs) == 0 {
		return nil, fmt.Errorf("no Z-Wave JS server configured")
	}
	for name, u := range cfg.Hubs {
		if !ValidHubName(name) {
			return nil, fmt.Errorf("Z-Wave hub name %q: want letters, digits, -, _ or .", name)
		}
		if _, err := ServerURL(u); err != nil {
			return nil, fmt.Errorf("Z-Wave hub %s: %w", name, err)
		}
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 15 * time.Second
	}
	if cfg.PingEvery == 0 {
		cfg.PingEvery = 30 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	if cfg.Clock == nil {
		cfg.Clock = sparekey.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg.TLS
	d := &Driver{cfg: cfg, log: cfg.Logger, http: &http.Client{Transport: tr}, hubs: map[string]*hub{}, cancel: func() {}}
	for name, u := range cfg.Hubs {
		d.hubs[name] = newHub(d, name, u)
	}
	return d, nil
}

// ServerURL checks a Z-Wave JS server's address: ws://host:port or
// wss://host:port.
func ServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("Z-Wave JS server %q: want ws://host:port or wss://host:port", s)
	}
	return u, nil
}

// Hubs are the names of the configured hubs, sorted.
func (d *Driver) Hubs() []string {
	names := make([]string, 0, len(d.hubs))
	for n := range d.hubs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start connects to every hub and keeps reconnecting until Stop; it does
// not wait for the connections.
func (d *Driver) Start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, h := range d.hubs {
		d.wg.Add(2)
		go func() { defer d.wg.Done(); h.run(ctx) }()
		go func() { defer d.wg.Done(); d.pinger(ctx, h) }()
	}
}

// Stop disconnects from every hub and waits for the driver's goroutines.
func (d *Driver) Stop() {
	d.stopOnce.Do(func() {
		d.cancel()
		d.wg.Wait()
	})
}

// Connected reports whether every hub is connected and its state read.
func (d *Driver) Connected() bool {
	for _, h := range d.hubs {
		if !h.connected.Load() {
			return false
		}
	}
	return true
}

// HubConnected reports whether the named hub is connected.
func (d *Driver) HubConnected(name string) bool {
	h := d.hubs[name]
	return h != nil && h.connected.Load()
}

// pinger pings the hub's quiet locks: a lock that stopped answering is
// marked dead by zwave-js only when a command to it fails.
func (d *Driver) pinger(ctx context.Context, h *hub) {
	t := time.NewTicker(d.cfg.PingEvery / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !h.connected.Load() {
			continue
		}
		for _, id := range h.quiet(d.cfg.Clock.Now(), d.cfg.PingEvery) {
			h.ping(ctx, id)
		}
	}
}

// emit hands a lock's events to the device layer.
func (d *Driver) emit(device string, events []sparekey.DeviceEvent) {
	if d.cfg.Events == nil || len(events) == 0 {
		return
	}
	d.cfg.Events.Deliver(device, events, nil)
}

// Hub names the hub connection a lock is reached through ("zwave://bldg-a"
// for zwave://bldg-a/12): the locks of one hub are owned together among
// instances.
func (d *Driver) Hub(lock string) string { return device.HubOf(lock) }
