// Package z2m is the lock driver for keypad locks paired with
// Zigbee2MQTT: it speaks Zigbee2MQTT's MQTT topics and JSON payloads (see
// docs/zigbee2mqtt.md) through an MQTT 5 client that reconnects by itself.
//
// The Adapter is a device.Driver: SetPIN, ClearPIN, Lock and Unlock publish
// to <base>/<device>/set and return once the lock's own report confirms the
// change. Everything locks report becomes sparekey.DeviceEvents, handed to
// the device layer's Delivery, which records them in order per lock before
// the MQTT message is acknowledged. Malformed or unknown payloads are logged
// and dropped.
//
// The package is split by job: conn.go keeps the broker connection,
// route.go turns messages into events, track.go remembers each lock
// between its messages, commands.go sends commands and waits for their
// confirmation, payload.go parses Zigbee2MQTT's JSON.
package z2m

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"

	"sparekey"
	"sparekey/device"
)

var _ device.Driver = (*Adapter)(nil)

// Config configures an Adapter.
type Config struct {
	// Broker is the MQTT broker's URL: mqtt:// or tcp:// (plain), mqtts://
	// or tls:// (TLS), with optional user:password.
	Broker string
	// BaseTopic is Zigbee2MQTT's base topic. Default "zigbee2mqtt".
	BaseTopic string
	// ClientID names this connection on the broker; every instance needs
	// its own. Default "sparekey-" and a random suffix.
	ClientID string
	// Events receives every event locks report, with the MQTT message's
	// acknowledgement to run once they are recorded. Reports of locks
	// another instance owns still reach the adapter (they confirm this
	// instance's commands); Events keeps them for a takeover. nil: events
	// are dropped.
	Events *device.Delivery
	// OnConnect is called (on its own goroutine) each time the adapter is
	// subscribed after connecting or reconnecting: the moment to ask locks
	// for their state and retry what failed while the broker was away.
	OnConnect func()
	// SessionExpiry keeps the adapter's MQTT session on the broker this long
	// while it is disconnected: QoS 1 messages that arrive meanwhile (a
	// keypad use while Sparekey restarts) are delivered when it is back.
	// Messages are acknowledged only after their events were recorded. It
	// needs a ClientID that stays the same across restarts. 0: a clean
	// session.
	SessionExpiry time.Duration
	// CommandTimeout is how long a command waits for the lock to confirm
	// it. Default 10s.
	CommandTimeout time.Duration
	Clock          sparekey.Clock
	Logger         *slog.Logger
}

// Adapter talks to Zigbee2MQTT locks over MQTT. It is safe for concurrent
// use.
type Adapter struct {
	cfg  Config
	log  *slog.Logger
	url  *url.URL
	base string
	cm   atomic.Pointer[autopaho.ConnectionManager] // nil until Start

	mu           sync.Mutex
	devices      map[string]*tracked
	bridgeOnline bool // Zigbee2MQTT's bridge/state; assumed online until it says otherwise
	// waiters are the commands waiting for their lock's report. Reports
	// are matched with a.mu held, so a command sees only reports that
	// arrived after it was registered.
	waiters device.Waiters[seen]

	// conn ends when the current connection drops, and with it every
	// publish waiting for the broker's ack on it.
	connMu     sync.Mutex
	conn       context.Context
	connCancel context.CancelFunc

	connected      atomic.Bool   // subscribed on a live connection
	subscribed     chan struct{} // closed after the first subscription
	subscribedOnce sync.Once
	cancel         context.CancelFunc
}

// New checks the configuration and returns an adapter that is not
// connected yet: commands fail with ELOCKOFFLINE until Start.
func New(cfg Config) (*Adapter, error) {
	u, err := BrokerURL(cfg.Broker)
	if err != nil {
		return nil, err
	}
	if cfg.BaseTopic == "" {
		cfg.BaseTopic = "zigbee2mqtt"
	}
	cfg.BaseTopic = strings.TrimSuffix(cfg.BaseTopic, "/")
	if cfg.BaseTopic == "" || strings.ContainsAny(cfg.BaseTopic, "+#") {
		return nil, fmt.Errorf("MQTT base topic %q: want a topic such as zigbee2mqtt", cfg.BaseTopic)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "sparekey-" + randomSuffix()
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = sparekey.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Adapter{cfg: cfg, url: u, log: cfg.Logger.With("mqtt", redactURL(u)), base: cfg.BaseTopic,
		devices: map[string]*tracked{}, bridgeOnline: true, cancel: func() {}, subscribed: make(chan struct{})}, nil
}

// Start returns a connected adapter: New, then Start.
func Start(ctx context.Context, cfg Config) (*Adapter, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Broker is the broker's URL without its password.
func (a *Adapter) Broker() string { return redactURL(a.url) }

// Connected reports whether the adapter is connected and subscribed.
func (a *Adapter) Connected() bool { return a.connected.Load() }

// BaseTopic is Zigbee2MQTT's base topic the adapter uses.
func (a *Adapter) BaseTopic() string { return a.base }
