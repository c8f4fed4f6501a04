package z2m

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"sparekey"
)

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
		a.cancel()
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

// Stop disconnects. Events already handed to Config.Events are the
// Delivery's to finish: stop it after the adapter.
func (a *Adapter) Stop() {
	if cm := a.cm.Load(); cm != nil {
		// Disconnect cleanly first (a will or a kept session depends on
		// it), then end whatever still waits.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = cm.Disconnect(ctx)
		cancel()
	}
	a.cancel()
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
