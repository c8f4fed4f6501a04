// Package z2m is the device adapter for keypad locks paired with
// Zigbee2MQTT: it speaks Zigbee2MQTT's MQTT topics and JSON payloads (see
// docs/zigbee2mqtt.md) through an MQTT 5 client that reconnects by itself.
//
// The Adapter is a sparekey.LockDriver: SetPIN, ClearPIN, Lock and Unlock
// publish to <base>/<device>/set and return once the lock's own report
// confirms the change. Everything locks report becomes sparekey.DeviceEvents,
// handed to the configured handler on the adapter's own goroutines, in order
// per lock. Malformed or unknown payloads are logged and dropped.
package z2m

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"sparekey"
)

var _ sparekey.LockDriver = (*Adapter)(nil)

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
	// Handler receives every event locks report. It is called on the
	// adapter's goroutines, one event of a lock at a time and in order.
	Handler func(sparekey.DeviceEvent)
	// OnConnect is called (on its own goroutine) each time the adapter is
	// subscribed after connecting or reconnecting: the moment to ask locks
	// for their state and retry what failed while the broker was away.
	OnConnect func()
	// SessionExpiry keeps the adapter's MQTT session on the broker this long
	// while it is disconnected: QoS 1 messages that arrive meanwhile (a
	// keypad use while Sparekey restarts) are delivered when it is back.
	// Messages are acknowledged only after Handler returned. It needs a
	// ClientID that stays the same across restarts. 0: a clean session.
	SessionExpiry time.Duration
	// Owns says whether this instance records the lock's reports, when
	// several instances share the locks (cluster.Member.Owns). Reports of
	// other instances' locks are still read, to confirm this instance's
	// commands, and kept for KeepFor for Replay. nil: every lock.
	Owns func(device string) bool
	// KeepFor is how long other owners' reports are kept: longer than it
	// takes to notice a dead owner. Default 1m.
	KeepFor time.Duration
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
	devices      map[string]*device
	bridgeOnline bool // Zigbee2MQTT's bridge/state; assumed online until it says otherwise

	keptMu sync.Mutex
	kept   map[string][]keptEvent // other owners' recent events, by device

	// conn ends when the current connection drops, and with it every
	// publish waiting for the broker's ack on it.
	connMu     sync.Mutex
	conn       context.Context
	connCancel context.CancelFunc

	connected      atomic.Bool   // subscribed on a live connection
	subscribed     chan struct{} // closed after the first subscription
	subscribedOnce sync.Once

	// qmu guards closing the shards: queue holds it shared while it sends,
	// stop exclusively while it closes them.
	qmu    sync.RWMutex
	closed bool
	shards []chan queued
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// eventShards is how many goroutines hand events to the handler. A lock's
// events always go through the same one, which keeps them in order.
const eventShards = 4

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
	if cfg.KeepFor <= 0 {
		cfg.KeepFor = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = sparekey.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Handler == nil {
		cfg.Handler = func(sparekey.DeviceEvent) {}
	}
	return &Adapter{cfg: cfg, url: u, log: cfg.Logger.With("mqtt", redactURL(u)), base: cfg.BaseTopic,
		devices: map[string]*device{}, bridgeOnline: true, kept: map[string][]keptEvent{}, cancel: func() {}, subscribed: make(chan struct{})}, nil
}

// Start connects to the broker and keeps reconnecting until Stop. It
// returns once the first connection is up and subscribed, or, having
// stopped the adapter, an error when ctx ends first. Call Start or Connect
// once.
func (a *Adapter) Start(ctx context.Context) error { return a.start(ctx, true) }

// Connect is Start without waiting: the adapter keeps trying in the
// background, and commands fail with lock_offline until it is connected.
// It fails only when the client cannot be made.
func (a *Adapter) Connect(ctx context.Context) error { return a.start(ctx, false) }

func (a *Adapter) start(ctx context.Context, wait bool) error {
	for range eventShards {
		ch := make(chan queued, 1024)
		a.shards = append(a.shards, ch)
		a.wg.Add(1)
		go a.deliver(ch)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	cc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{a.url},
		KeepAlive:                     20,
		CleanStartOnInitialConnection: a.cfg.SessionExpiry == 0,
		SessionExpiryInterval:         uint32(a.cfg.SessionExpiry / time.Second),
		ReconnectBackoff:              backoff,
		ConnectTimeout:                10 * time.Second,
		// Without a kept session every connection starts clean: resuming
		// one makes some brokers (mochi-mqtt) take the old connection's
		// session over and then drop its subscriptions with it.
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if a.cfg.SessionExpiry == 0 {
				cp.CleanStart = true
			}
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			a.connMu.Lock()
			a.conn, a.connCancel = context.WithCancel(runCtx)
			conn := a.conn
			a.connMu.Unlock()
			go a.subscribe(conn, cm, ack.SessionPresent)
		},
		OnConnectionDown: func() bool {
			a.connected.Store(false)
			a.connMu.Lock()
			if a.connCancel != nil {
				a.connCancel()
			}
			a.connMu.Unlock()
			a.log.Warn("lost the MQTT broker; reconnecting")
			return true
		},
		OnConnectError: func(err error) { a.log.Warn("cannot reach the MQTT broker", "err", err) },
		ClientConfig: paho.ClientConfig{
			OnServerDisconnect: func(d *paho.Disconnect) {
				if d.ReasonCode == 0x8E { // session taken over
					a.log.Error("another MQTT client connected with this client ID and took the session; give each instance its own --mqtt-client-id",
						"client_id", a.cfg.ClientID)
				}
			},
			ClientID:                   a.cfg.ClientID,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){a.received},
			EnableManualAcknowledgment: true,
		},
	}
	if a.url.User != nil {
		cc.ConnectUsername = a.url.User.Username()
		pw, _ := a.url.User.Password()
		cc.ConnectPassword = []byte(pw)
	}
	cm, err := autopaho.NewConnection(runCtx, cc)
	if err != nil {
		a.stop()
		return fmt.Errorf("mqtt %s: %w", redactURL(a.url), err)
	}
	a.cm.Store(cm)
	if !wait {
		return nil
	}
	if err := a.WaitConnected(ctx); err != nil {
		a.Stop()
		return err
	}
	return nil
}

// WaitConnected waits until the adapter has connected and subscribed for
// the first time, or ctx ends.
func (a *Adapter) WaitConnected(ctx context.Context) error {
	select {
	case <-a.subscribed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot reach the MQTT broker at %s: %w", redactURL(a.url), ctx.Err())
	}
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

// Stop disconnects and waits until the handler has seen every event the
// adapter had accepted.
func (a *Adapter) Stop() {
	if cm := a.cm.Load(); cm != nil {
		// Disconnect cleanly first (a will or a kept session depends on
		// it), then end whatever still waits.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = cm.Disconnect(ctx)
		cancel()
	}
	a.stop()
}

func (a *Adapter) stop() {
	a.cancel()
	a.qmu.Lock()
	if !a.closed {
		a.closed = true
		for _, ch := range a.shards {
			close(ch)
		}
	}
	a.qmu.Unlock()
	a.wg.Wait()
}

// backoff connects at once, then waits 1 s, 2 s, … up to 10 s between
// attempts.
func backoff(attempt int) time.Duration {
	if attempt == 0 {
		return 0
	}
	return min(time.Second<<min(attempt-1, 4), 10*time.Second)
}

// BrokerURL checks an MQTT broker URL.
func BrokerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("MQTT broker URL %q: want mqtt://host:1883 (or tcp://, mqtts://, tls://)", raw)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "mqtts", "tls", "ssl":
	default:
		return nil, fmt.Errorf("MQTT broker URL %q: scheme %q is not mqtt, tcp, mqtts or tls", redactURL(u), u.Scheme)
	}
	if u.Port() == "" {
		port := "1883"
		if u.Scheme == "mqtts" || u.Scheme == "tls" || u.Scheme == "ssl" {
			port = "8883"
		}
		u.Host += ":" + port
	}
	return u, nil
}

func redactURL(u *url.URL) string { return u.Redacted() }

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// subscribe (re)subscribes after every connection, then tells the owner.
//
// A broker that kept our session (sessionPresent) still holds the
// subscription; some brokers refuse to make it again while they resend
// what they kept, which is then no reason to give up.
func (a *Adapter) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, sessionPresent bool) {
	for attempt := 0; ; attempt++ {
		_, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
			{Topic: a.base + "/#", QoS: 1, NoLocal: true},
		}})
		if err == nil || (sessionPresent && ctx.Err() == nil) {
			if err != nil {
				a.log.Debug("broker refused to subscribe again; the kept session has the subscription", "err", err)
			}
			break
		}
		if ctx.Err() != nil {
			return // the connection dropped: the next one subscribes
		}
		wait := backoff(attempt + 1)
		a.log.Error("subscribe to Zigbee2MQTT topics failed; retrying (check the broker's ACL for this user)", "topic", a.base+"/#", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	a.log.Info("connected to the MQTT broker", "topics", a.base+"/#")
	a.connected.Store(true)
	a.subscribedOnce.Do(func() { close(a.subscribed) })
	if a.cfg.OnConnect != nil {
		a.cfg.OnConnect()
	}
}

// received runs on the MQTT client's goroutine: parse, update the device,
// wake waiters, and queue events without waiting on the handler.
func (a *Adapter) received(pr paho.PublishReceived) (bool, error) {
	ack := func() {
		if err := pr.Client.Ack(pr.Packet); err != nil {
			a.log.Debug("MQTT ack not sent; the broker will deliver the message again", "topic", pr.Packet.Topic, "err", err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			// Acks go out in arrival order: one never sent would hold
			// back every later one, and the broker would stop delivering.
			a.log.Error("panic handling an MQTT message; dropped", "topic", pr.Packet.Topic, "panic", r)
			ack()
		}
	}()
	name, events := a.handle(pr.Packet.Topic, pr.Packet.Payload)
	if len(events) > 0 && a.cfg.Owns != nil && !a.cfg.Owns(name) {
		a.keep(name, events)
		events = nil
	}
	if len(events) == 0 || !a.queue(name, events, ack) {
		ack()
	}
	return true, nil
}

// handle processes one message from the broker and returns the events it
// means for the named device.
func (a *Adapter) handle(topic string, payload []byte) (string, []sparekey.DeviceEvent) {
	rest, ok := strings.CutPrefix(topic, a.base+"/")
	if !ok || rest == "" {
		return "", nil
	}
	now := a.cfg.Clock.Now()
	switch {
	case rest == "bridge/logging":
		if name := failedDevice(payload); name != "" {
			a.failWaiters(name, sparekey.Errorf(sparekey.ELOCKFAILED, "Zigbee2MQTT could not send the command to lock %s", name))
		}
		return "", nil
	case rest == "bridge/state":
		if online, err := ParseAvailability(payload); err == nil {
			a.bridgeState(online, now)
		} else {
			a.log.Warn("bad bridge state message dropped", "err", err)
		}
		return "", nil
	case strings.HasPrefix(rest, "bridge/"):
		return "", nil
	case strings.HasSuffix(rest, "/set") || strings.HasSuffix(rest, "/get"):
		return "", nil // commands, ours or another client's
	case strings.HasSuffix(rest, "/availability"):
		name := strings.TrimSuffix(rest, "/availability")
		online, err := ParseAvailability(payload)
		if err != nil {
			a.log.Warn("bad availability message dropped", "device", name, "err", err)
			return "", nil
		}
		a.mu.Lock()
		d := a.device(name)
		d.byBridge = false // the lock's own availability overrules the bridge's
		events := d.availability(name, online, now)
		if !online {
			d.failWaiters(sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s went offline", name))
		}
		a.mu.Unlock()
		return name, events
	}
	name := rest
	r, err := ParseReport(payload)
	if err != nil {
		a.log.Warn("bad lock message dropped", "device", name, "err", err, "bytes", len(payload))
		return "", nil
	}
	if r.LastSeen != nil && r.LastSeen.Before(now) && now.Sub(*r.LastSeen) < 24*time.Hour {
		now = *r.LastSeen // when Zigbee2MQTT heard it, e.g. a message queued while we were away
	}
	a.mu.Lock()
	d := a.device(name)
	var before map[int]User // Zigbee2MQTT's users cache before this message
	if len(d.waiters) > 0 {
		before = maps.Clone(d.users)
	}
	events := d.report(name, r, now)
	for w := range d.waiters {
		if done, err := w.match(r, before); done {
			w.finish(err)
			delete(d.waiters, w)
		}
	}
	a.mu.Unlock()
	return name, events
}

// keptEvent is another owner's event and when it was kept.
type keptEvent struct {
	event sparekey.DeviceEvent
	at    time.Time
}

// keep holds events of a lock another instance owns, in case it dies
// before recording them.
func (a *Adapter) keep(name string, events []sparekey.DeviceEvent) {
	now := time.Now() // the wall clock: a demo's test clock may jump
	cutoff := now.Add(-a.cfg.KeepFor)
	a.keptMu.Lock()
	defer a.keptMu.Unlock()
	list := a.kept[name]
	for _, e := range events {
		list = append(list, keptEvent{event: e, at: now})
	}
	i := 0
	for i < len(list) && list[i].at.Before(cutoff) {
		i++
	}
	list = list[i:]
	if len(list) > 100 {
		list = list[len(list)-100:]
	}
	a.kept[name] = list
	for d, l := range a.kept { // forget devices gone quiet
		if len(l) == 0 || l[len(l)-1].at.Before(cutoff) {
			delete(a.kept, d)
		}
	}
}

// Replay hands over the events kept for locks this instance now owns
// (their owner died), marked Replayed, ahead of anything that arrives
// later for them.
func (a *Adapter) Replay(devices []string) {
	cutoff := time.Now().Add(-a.cfg.KeepFor)
	for _, name := range devices {
		a.keptMu.Lock()
		list := a.kept[name]
		delete(a.kept, name)
		a.keptMu.Unlock()
		var events []sparekey.DeviceEvent
		for _, k := range list {
			if k.event.Kind != sparekey.EventState && !k.at.Before(cutoff) {
				e := k.event
				e.Replayed = true
				events = append(events, e)
			}
		}
		if len(events) > 0 {
			a.log.Info("handing over reports kept while another instance owned the lock", "device", name, "events", len(events))
			a.queue(name, events, func() {})
		}
	}
}

// bridgeState follows Zigbee2MQTT itself going away and coming back. While
// it is gone no lock can be reached, though each lock's retained
// availability still says online: every known lock is reported offline and
// commands fail at once. When it is back, those locks count as online
// again (Zigbee2MQTT then republishes the true availability of each), and
// OnConnect runs so their state is read and pending codes retried.
func (a *Adapter) bridgeState(online bool, now time.Time) {
	type batch struct {
		name   string
		events []sparekey.DeviceEvent
	}
	var out []batch
	a.mu.Lock()
	if online == a.bridgeOnline {
		a.mu.Unlock()
		return
	}
	a.bridgeOnline = online
	for name, d := range a.devices {
		switch {
		case !online && (!d.availKnown || d.online):
			d.byBridge = true
			out = append(out, batch{name, d.availability(name, false, now)})
			d.failWaiters(sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: Zigbee2MQTT is offline", name))
		case online && d.byBridge:
			d.byBridge = false
			out = append(out, batch{name, d.availability(name, true, now)})
		}
	}
	a.mu.Unlock()
	if online {
		a.log.Info("Zigbee2MQTT is back online")
	} else {
		a.log.Warn("Zigbee2MQTT is offline: every lock is unreachable until it is back", "locks", len(out))
	}
	for _, b := range out {
		a.emit(b.name, b.events)
	}
	if online && a.cfg.OnConnect != nil {
		go a.cfg.OnConnect()
	}
}

// emit hands events that belong to no MQTT message of their own to the
// handler, if this instance owns the lock.
func (a *Adapter) emit(name string, events []sparekey.DeviceEvent) {
	if len(events) == 0 {
		return
	}
	if a.cfg.Owns != nil && !a.cfg.Owns(name) {
		a.keep(name, events)
		return
	}
	a.queue(name, events, nil)
}

// device returns the device's record, creating it. a.mu must be held.
func (a *Adapter) device(name string) *device {
	d, ok := a.devices[name]
	if !ok {
		d = newDevice()
		a.devices[name] = d
	}
	return d
}

// queued is an event waiting for the handler; ack, on the last event of a
// message, acknowledges the message to the broker once handled.
type queued struct {
	event sparekey.DeviceEvent
	ack   func()
}

// queue hands the events to the device's delivery goroutine; ack runs after
// the handler has seen the last of them. It reports false, having queued
// nothing, when the adapter is stopping.
func (a *Adapter) queue(name string, events []sparekey.DeviceEvent, ack func()) bool {
	h := fnv.New32a()
	h.Write([]byte(name))
	ch := a.shards[h.Sum32()%eventShards]
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if a.closed {
		a.log.Warn("adapter stopped; lock events left for the broker to deliver again", "device", name, "events", len(events))
		return false
	}
	for i, e := range events {
		q := queued{event: e}
		if i == len(events)-1 {
			q.ack = ack
		}
		ch <- q // a full shard holds the MQTT reader back: backpressure, not loss
	}
	return true
}

func (a *Adapter) deliver(ch chan queued) {
	defer a.wg.Done()
	for q := range ch {
		a.handleOne(q.event)
		if q.ack != nil {
			q.ack()
		}
	}
}

func (a *Adapter) handleOne(e sparekey.DeviceEvent) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("lock event handler panicked; event dropped", "device", e.Device, "kind", e.Kind, "panic", r)
		}
	}()
	a.cfg.Handler(e)
}

// waiter is a command waiting for the lock's report that confirms it.
type waiter struct {
	// match decides on a report; before is the lock's users cache as the
	// previous message left it.
	match func(r *Report, before map[int]User) (done bool, err error)
	done  chan error
}

func (w *waiter) finish(err error) {
	select {
	case w.done <- err:
	default:
	}
}

func (d *device) failWaiters(err error) {
	for w := range d.waiters {
		w.finish(err)
		delete(d.waiters, w)
	}
}

func (a *Adapter) failWaiters(name string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.devices[name]; ok {
		d.failWaiters(err)
	}
}

// SetPIN programs code into the 0-based slot and returns once the lock
// confirmed it. Zigbee2MQTT repeats its cached state in every message, so
// a stale "enabled" for the slot proves nothing; what counts is, in order:
// a pin_code_added/changed event for the slot, the slot's exposed PIN equal
// to code, or the slot's status turning enabled from something else. On a
// lock that has shown neither events nor PINs, the slot is read first when
// its status is unknown, and cleared first when it is enabled, so that the
// status can turn.
func (a *Adapter) SetPIN(ctx context.Context, name string, slot int, code string) error {
	status, err := a.baseline(ctx, name, slot)
	if err != nil {
		return err
	}
	if status == "enabled" && !a.showsPINsOrEvents(name) {
		if err := a.ClearPIN(ctx, name, slot); err != nil {
			return err
		}
	}
	set := map[string]any{"pin_code": map[string]any{"user": slot, "user_type": "unrestricted", "user_enabled": true, "pin_code": code}}
	return a.command(ctx, name, "program slot "+fmt.Sprint(slot)+" of", set, slot, func(r *Report, before map[int]User) (bool, error) {
		if r.ActionUser != nil && *r.ActionUser == slot && (r.Action == "pin_code_added" || r.Action == "pin_code_changed") {
			return true, nil
		}
		u, ok := r.Users[slot]
		switch {
		case !ok || u.Status != "enabled":
			return false, nil
		case u.PIN != nil:
			return *u.PIN == code, nil
		}
		prev, known := before[slot]
		return known && prev.Status != "enabled", nil
	})
}

// ClearPIN empties the slot and returns once the lock confirmed it: a
// pin_code_deleted event for the slot, or the slot's status turning
// available from enabled. A slot already shown available is first given a
// throwaway code, so that the clearing shows as a change rather than as
// Zigbee2MQTT's cache, which may lag behind the lock.
func (a *Adapter) ClearPIN(ctx context.Context, name string, slot int) error {
	status, err := a.baseline(ctx, name, slot)
	if err != nil {
		return err
	}
	if status == "available" {
		if err := a.SetPIN(ctx, name, slot, throwawayCode()); err != nil {
			return err
		}
	}
	clear := map[string]any{"pin_code": map[string]any{"user": slot, "pin_code": nil}}
	return a.command(ctx, name, "clear slot "+fmt.Sprint(slot)+" of", clear, slot, func(r *Report, before map[int]User) (bool, error) {
		if r.ActionUser != nil && *r.ActionUser == slot && r.Action == "pin_code_deleted" {
			return true, nil
		}
		u, ok := r.Users[slot]
		if !ok || u.Status != "available" {
			return false, nil
		}
		prev, known := before[slot]
		return known && prev.Status == "enabled", nil
	})
}

// showsPINsOrEvents reports whether the lock has sent a programming event
// or an exposed PIN, either of which confirms a code by itself.
func (a *Adapter) showsPINsOrEvents(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.device(name)
	return d.programEvents || d.exposesPIN
}

// baseline returns the slot's status as Zigbee2MQTT last showed it,
// reading the slot first when it never did: the first message that has
// the slot is then an answer, since no cached copy of it exists.
func (a *Adapter) baseline(ctx context.Context, name string, slot int) (string, error) {
	a.mu.Lock()
	u, known := a.device(name).users[slot]
	a.mu.Unlock()
	if known {
		return u.Status, nil
	}
	var status string
	err := a.command(ctx, name, "read slot "+fmt.Sprint(slot)+" of", nil, slot, func(r *Report, _ map[int]User) (bool, error) {
		u, ok := r.Users[slot]
		status = u.Status
		return ok, nil
	})
	return status, err
}

// throwawayCode is a random 8-digit code that only ever stands in a slot
// for the moment between two commands.
func throwawayCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// Lock throws the bolt and returns once the lock reports it locked; a
// bolt that stops half-way is ELOCKJAMMED.
func (a *Adapter) Lock(ctx context.Context, name string) error {
	return a.bolt(ctx, name, "LOCK", "locked")
}

// Unlock draws the bolt and returns once the lock reports it unlocked.
func (a *Adapter) Unlock(ctx context.Context, name string) error {
	return a.bolt(ctx, name, "UNLOCK", "unlocked")
}

func (a *Adapter) bolt(ctx context.Context, name, state, want string) error {
	return a.command(ctx, name, strings.ToLower(state), map[string]any{"state": state}, -1, func(r *Report, _ map[int]User) (bool, error) {
		switch {
		case r.LockState == want || (r.LockState == "" && r.State == state):
			return true, nil
		case r.LockState == "not_fully_locked" || r.Action == "error_jammed" || r.DoorState == "error_jammed":
			return true, sparekey.Errorf(sparekey.ELOCKJAMMED, "lock %s is jammed: the bolt did not move", name)
		}
		return false, nil
	})
}

// Refresh asks the lock for its state; the answer arrives as a message
// like any other. It does nothing while the broker is unreachable.
func (a *Adapter) Refresh(ctx context.Context, name string) error {
	return a.publish(ctx, name, "get", map[string]any{"state": ""})
}

// command publishes payload to the device's /set topic (and, for a slot, a
// /get of it) and waits for a report that match accepts.
func (a *Adapter) command(ctx context.Context, name, what string, payload map[string]any, slot int, match func(*Report, map[int]User) (bool, error)) error {
	if err := checkName(name); err != nil {
		return err
	}
	w := &waiter{match: match, done: make(chan error, 1)}
	a.mu.Lock()
	d := a.device(name)
	if d.availKnown && !d.online {
		a.mu.Unlock()
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline", name)
	}
	d.waiters[w] = struct{}{}
	if slot < 0 {
		d.commanding++
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(d.waiters, w)
		if slot < 0 {
			d.commanding--
		}
		a.mu.Unlock()
	}()

	if payload != nil {
		if err := a.publish(ctx, name, "set", payload); err != nil {
			return err
		}
	}
	if slot >= 0 {
		// Not every lock sends a programming event; reading the slot back
		// confirms it on the others.
		if err := a.publish(ctx, name, "get", map[string]any{"pin_code": map[string]any{"user": slot}}); err != nil {
			return err
		}
	}
	timer := time.NewTimer(a.cfg.CommandTimeout)
	defer timer.Stop()
	select {
	case err := <-w.done:
		return err
	case <-timer.C:
		return sparekey.Errorf(sparekey.ELOCKTIMEOUT, "lock %s did not confirm the command to %s it within %s", name, what, a.cfg.CommandTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publishTimeout bounds the wait for the broker to take a command.
const publishTimeout = 5 * time.Second

// publish sends a command to <base>/<device>/<verb>.
func (a *Adapter) publish(ctx context.Context, name, verb string, payload map[string]any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	cm := a.cm.Load()
	if cm == nil {
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: not connected to the MQTT broker yet", name)
	}
	// A connection that drops while the broker's ack is due leaves paho
	// waiting for an ack that cannot come: stop waiting when it drops.
	pubCtx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	a.connMu.Lock()
	conn := a.conn
	a.connMu.Unlock()
	if conn != nil {
		defer context.AfterFunc(conn, cancel)()
	}
	_, err = cm.Publish(pubCtx, &paho.Publish{Topic: a.base + "/" + name + "/" + verb, QoS: 1, Payload: body})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, autopaho.ConnectionDownError) {
			return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: the MQTT broker is not connected", name)
		}
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: publishing to the MQTT broker failed", name)
	}
	return nil
}

// checkName refuses device names that are not a plain MQTT topic level
// path: wildcards or empty levels would publish to the wrong locks.
func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, "+#\x00") || strings.HasPrefix(name, "/") ||
		strings.HasSuffix(name, "/") || strings.Contains(name, "//") || strings.HasPrefix(name, "bridge/") {
		return sparekey.Errorf(sparekey.EINVALID, "%q is not a Zigbee2MQTT device name", name)
	}
	return nil
}

// Broker is the broker's URL without its password.
func (a *Adapter) Broker() string { return redactURL(a.url) }

// Connected reports whether the adapter is connected and subscribed.
func (a *Adapter) Connected() bool { return a.connected.Load() }

// BaseTopic is Zigbee2MQTT's base topic the adapter uses.
func (a *Adapter) BaseTopic() string { return a.base }
