package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"sparekey"
	"sparekey/z2m"
)

// BridgeConfig configures a Bridge.
type BridgeConfig struct {
	// Broker is the MQTT broker's URL (mqtt://host:port).
	Broker string
	// BaseTopic is the topic prefix. Default "zigbee2mqtt".
	BaseTopic string
	// ClientID names the bridge's connection. Default "sparekey-sim-" and
	// the broker address.
	ClientID string
	// Latency is how long each command takes to reach a lock and come
	// back, as a Zigbee mesh would take. Default 0.
	Latency time.Duration
	// Workers is how many commands run at once. Default 32.
	Workers int
	Logger  *slog.Logger
}

// Bridge puts a Fleet on an MQTT broker as Zigbee2MQTT would: every
// virtual lock gets zigbee2mqtt/<name> state messages, a retained
// availability topic, and answers /set and /get commands with the same
// JSON a real lock paired with Zigbee2MQTT sends (docs/zigbee2mqtt.md). It
// is the fleet's only subscriber while it runs.
type Bridge struct {
	fleet *Fleet
	cfg   BridgeConfig
	log   *slog.Logger
	base  string
	cm    atomic.Pointer[autopaho.ConnectionManager]

	work     []chan command
	wg       sync.WaitGroup
	ctx      context.Context // ends at Stop, and with it every publish in flight
	cancel   context.CancelFunc
	stopOnce sync.Once

	mu        sync.Mutex
	published map[string]uint64      // state messages per device, for Published
	reporting map[string]*sync.Mutex // one report of a lock at a time, for publishState

	announced     chan struct{} // closed once every lock was announced
	announcedOnce sync.Once
}

type command struct {
	device, verb string
	payload      []byte
}

// StartBridge connects the fleet to the broker and returns once it is
// connected. The bridge reconnects by itself until Stop.
func StartBridge(ctx context.Context, fleet *Fleet, cfg BridgeConfig) (*Bridge, error) {
	u, err := z2m.BrokerURL(cfg.Broker)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if cfg.BaseTopic == "" {
		cfg.BaseTopic = "zigbee2mqtt"
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "sparekey-sim-" + strings.NewReplacer(":", "-", ".", "-").Replace(u.Host)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{fleet: fleet, cfg: cfg, log: cfg.Logger.With("component", "simulator"), base: cfg.BaseTopic,
		published: map[string]uint64{}, announced: make(chan struct{})}
	for range cfg.Workers {
		ch := make(chan command, 256)
		b.work = append(b.work, ch)
		b.wg.Add(1)
		go b.run(ch)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.ctx, b.cancel = runCtx, cancel
	cc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     20,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff: func(attempt int) time.Duration {
			return time.Duration(min(attempt, 1)) * time.Second
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			b.cm.Store(cm)
			go b.online(runCtx, cm)
		},
		OnConnectError: func(err error) { b.log.Warn("simulator cannot reach the MQTT broker", "err", err) },
		ClientConfig: paho.ClientConfig{
			ClientID: cfg.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				b.received(pr.Packet.Topic, pr.Packet.Payload)
				return true, nil
			}},
		},
	}
	cc.SetWillMessage(b.base+"/bridge/state", []byte(`{"state":"offline"}`), 1, true)
	fleet.Subscribe(b.report)
	cm, err := autopaho.NewConnection(runCtx, cc)
	if err != nil {
		b.Stop()
		return nil, err
	}
	b.cm.Store(cm)
	if err := cm.AwaitConnection(ctx); err != nil {
		b.Stop()
		return nil, fmt.Errorf("simulator: cannot reach the MQTT broker at %s: %w", u.Redacted(), err)
	}
	return b, nil
}

// Stop disconnects the bridge; the broker then publishes the bridge's
// offline state (its will).
func (b *Bridge) Stop() { b.stopOnce.Do(b.stop) }

func (b *Bridge) stop() {
	b.fleet.Subscribe(nil)
	b.cancel()
	if cm := b.cm.Load(); cm != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = cm.Disconnect(ctx)
		cancel()
	}
	for _, ch := range b.work {
		close(ch)
	}
	b.wg.Wait()
}

// online subscribes to the commands and publishes every lock's
// availability and state, after each (re)connection.
func (b *Bridge) online(ctx context.Context, cm *autopaho.ConnectionManager) {
	_, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: b.base + "/+/set", QoS: 1}, {Topic: b.base + "/+/get", QoS: 1},
	}})
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("simulator could not subscribe", "err", err)
		}
		return
	}
	b.publish(ctx, b.base+"/bridge/state", map[string]any{"state": "online"}, true)
	for _, device := range b.fleet.Devices() {
		b.Announce(ctx, device)
	}
	b.announcedOnce.Do(func() { close(b.announced) })
}

// Announced is closed once the bridge has announced every lock after its
// first connection: what a lock reports after that is news, not its first
// state.
func (b *Bridge) Announced() <-chan struct{} { return b.announced }

// Announce publishes a lock's availability and state, as Zigbee2MQTT does
// when a device joins or the bridge starts.
func (b *Bridge) Announce(ctx context.Context, device string) {
	st, err := b.fleet.Status(device)
	if err != nil {
		return
	}
	b.publish(ctx, b.availabilityTopic(device), availability(st.Online), true)
	if st.Online {
		b.publishState(ctx, device, nil)
	}
}

// Published returns how many messages the bridge has published for the
// device: a caller can tell whether an action made the lock report.
func (b *Bridge) Published(device string) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.published[device]
}

func (b *Bridge) availabilityTopic(device string) string {
	return b.base + "/" + device + "/availability"
}

func availability(online bool) map[string]any {
	if online {
		return map[string]any{"state": "online"}
	}
	return map[string]any{"state": "offline"}
}

// received queues a command; one device's commands always go to the same
// worker, so a lock handles them in the order they came.
func (b *Bridge) received(topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, b.base+"/")
	if !ok {
		return
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return
	}
	device, verb := rest[:i], rest[i+1:]
	if verb != "set" && verb != "get" {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(device))
	defer func() { _ = recover() }() // a closed channel while stopping
	b.work[h.Sum32()%uint32(len(b.work))] <- command{device: device, verb: verb, payload: append([]byte(nil), payload...)}
}

func (b *Bridge) run(ch chan command) {
	defer b.wg.Done()
	for c := range ch {
		if b.cfg.Latency > 0 {
			time.Sleep(b.cfg.Latency)
		}
		b.execute(b.ctx, c)
	}
}

// setPayload is what a lock's /set and /get topics take.
type setPayload struct {
	State   json.RawMessage `json:"state"`
	PINCode json.RawMessage `json:"pin_code"`
}

// execute runs one command as the lock would, and publishes the outcome.
func (b *Bridge) execute(ctx context.Context, c command) {
	var p setPayload
	if err := json.Unmarshal(c.payload, &p); err != nil {
		b.bridgeError(ctx, fmt.Sprintf("Invalid message '%s', skipping...", sparekey.Clip(string(c.payload), 80, "…")))
		return
	}
	if _, err := b.fleet.Status(c.device); err != nil {
		b.bridgeError(ctx, fmt.Sprintf("Entity '%s' is unknown", c.device))
		return
	}
	if c.verb == "get" {
		switch {
		case p.PINCode != nil:
			var q struct {
				User *int `json:"user"`
			}
			if json.Unmarshal(p.PINCode, &q) != nil || q.User == nil {
				return
			}
			if st, _ := b.fleet.Status(c.device); st.Online {
				b.publishState(ctx, c.device, map[string]any{"users": b.users(c.device, *q.User)})
			}
		case p.State != nil:
			if st, _ := b.fleet.Status(c.device); st.Online {
				b.publishState(ctx, c.device, nil)
			}
		}
		return
	}
	switch {
	case p.PINCode != nil:
		b.setPIN(ctx, c.device, p.PINCode)
	case p.State != nil:
		var state string
		if json.Unmarshal(p.State, &state) != nil {
			var withCode struct {
				State string `json:"state"`
			}
			_ = json.Unmarshal(p.State, &withCode)
			state = withCode.State
		}
		var err error
		switch strings.ToUpper(state) {
		case "LOCK":
			err = b.fleet.Lock(ctx, c.device)
		case "UNLOCK":
			err = b.fleet.Unlock(ctx, c.device)
		default:
			b.bridgeError(ctx, fmt.Sprintf("Publish 'set' 'state' to '%s' failed: 'Error: Unsupported value %q'", c.device, state))
			return
		}
		switch sparekey.ErrorCode(err) {
		case "":
		case sparekey.ELOCKJAMMED:
			// The motor tried and the bolt stopped half-way.
			b.publishState(ctx, c.device, map[string]any{"action": "error_jammed"})
		default:
			b.bridgeError(ctx, fmt.Sprintf("Publish 'set' 'state' to '%s' failed: 'Error: %s'", c.device, sparekey.ErrorMessage(err)))
		}
	}
}

func (b *Bridge) setPIN(ctx context.Context, device string, raw json.RawMessage) {
	var q struct {
		User    *int            `json:"user"`
		PINCode json.RawMessage `json:"pin_code"`
	}
	if json.Unmarshal(raw, &q) != nil || q.User == nil {
		b.bridgeError(ctx, fmt.Sprintf("Publish 'set' 'pin_code' to '%s' failed: 'Error: user must be set'", device))
		return
	}
	code := ""
	if q.PINCode != nil && string(q.PINCode) != "null" {
		if json.Unmarshal(q.PINCode, &code) != nil {
			var n json.Number
			_ = json.Unmarshal(q.PINCode, &n)
			code = n.String()
		}
	}
	var err error
	action := "pin_code_added"
	if code == "" {
		action = "pin_code_deleted"
		err = b.fleet.ClearPIN(ctx, device, *q.User)
	} else {
		err = b.fleet.SetPIN(ctx, device, *q.User, code)
	}
	if err != nil {
		msg := sparekey.ErrorMessage(err)
		if sparekey.ErrorCode(err) == sparekey.EINVALID {
			msg = "user must be in range for device"
		}
		b.bridgeError(ctx, fmt.Sprintf("Publish 'set' 'pin_code' to '%s' failed: 'Error: %s'", device, msg))
		return
	}
	b.publishState(ctx, device, map[string]any{"action": action, "action_user": *q.User, "action_source_name": "rf",
		"users": b.users(device, *q.User)})
}

// users is the users map Zigbee2MQTT publishes for one slot, with the PIN
// as the device option expose_pin shows it.
func (b *Bridge) users(device string, slot int) map[string]any {
	code := ""
	_ = b.fleet.do(device, func(l *virtualLock, _ time.Time) ([]sparekey.DeviceEvent, error) {
		if slot >= 0 && slot < len(l.codes) {
			code = l.codes[slot]
		}
		return nil, nil
	})
	u := map[string]any{"status": "available", "pin_code": nil}
	if code != "" {
		u = map[string]any{"status": "enabled", "pin_code": code}
	}
	return map[string]any{strconv.Itoa(slot): u}
}

// report publishes what a virtual lock did, as Zigbee2MQTT would.
func (b *Bridge) report(e sparekey.DeviceEvent) {
	ctx := b.ctx
	switch e.Kind {
	case sparekey.EventOnline:
		b.publish(ctx, b.availabilityTopic(e.Device), availability(true), true)
		b.publishState(ctx, e.Device, nil)
		return
	case sparekey.EventOffline:
		b.publish(ctx, b.availabilityTopic(e.Device), availability(false), true)
		return
	}
	extra := map[string]any{}
	switch e.Kind {
	case sparekey.EventKeypadUnlock:
		extra = map[string]any{"action": "unlock", "action_source": 0, "action_source_name": "keypad", "action_user": e.Slot}
	case sparekey.EventWrongCode:
		extra = map[string]any{"action": "unlock_failure_invalid_pin_or_id", "action_source": 0, "action_source_name": "keypad"}
	case sparekey.EventKeypadLocked:
		extra = map[string]any{"alarm": "tamper_alarm_keypad_attempts"}
	case sparekey.EventLocked:
		extra = map[string]any{"action": "lock", "action_source": 1, "action_source_name": "rf"}
	case sparekey.EventUnlocked:
		extra = map[string]any{"action": "unlock", "action_source": 1, "action_source_name": "rf"}
	case sparekey.EventJammed:
		extra = map[string]any{"action": "error_jammed"}
		if e.Source == "keypad" { // a code typed on a jammed lock
			extra["action_source"], extra["action_source_name"] = 0, "keypad"
		}
	case sparekey.EventReset:
		extra = map[string]any{"alarm": "lock_reset_to_factory_defaults"}
	}
	b.publishState(ctx, e.Device, extra)
}

// publishState publishes the lock's whole state, as Zigbee2MQTT does on
// every report, plus the keys of the event.
func (b *Bridge) publishState(ctx context.Context, device string, extra map[string]any) {
	// Read and sent under the lock's own mutex: an answer to /get read
	// before a keypad use must not reach the broker after that use's
	// report, or it would say the lock went back to its old state.
	b.mu.Lock()
	if b.reporting == nil {
		b.reporting = map[string]*sync.Mutex{}
	}
	one := b.reporting[device]
	if one == nil {
		one = &sync.Mutex{}
		b.reporting[device] = one
	}
	b.mu.Unlock()
	one.Lock()
	defer one.Unlock()
	st, err := b.fleet.Status(device)
	if err != nil {
		return
	}
	msg := map[string]any{"battery": st.Battery, "linkquality": 120, "door_state": "closed"}
	switch {
	case st.Jammed:
		msg["state"], msg["lock_state"], msg["door_state"] = "UNLOCK", "not_fully_locked", "error_jammed"
	case st.State == sparekey.LockStateLocked:
		msg["state"], msg["lock_state"] = "LOCK", "locked"
	default:
		msg["state"], msg["lock_state"] = "UNLOCK", "unlocked"
	}
	for k, v := range extra {
		msg[k] = v
	}
	b.publish(ctx, b.base+"/"+device, msg, false)
}

func (b *Bridge) bridgeError(ctx context.Context, message string) {
	b.publish(ctx, b.base+"/bridge/logging", map[string]any{"level": "error", "message": message}, false)
}

func (b *Bridge) publish(ctx context.Context, topic string, v any, retain bool) {
	body, err := json.Marshal(v)
	cm := b.cm.Load()
	if err != nil || cm == nil {
		return
	}
	if device, ok := strings.CutPrefix(topic, b.base+"/"); ok && !strings.HasPrefix(device, "bridge/") {
		device = strings.TrimSuffix(device, "/availability")
		b.mu.Lock()
		b.published[device]++
		b.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Retain: retain, Payload: body}); err != nil {
		b.log.Debug("simulator publish failed", "topic", topic, "err", err)
	}
}
