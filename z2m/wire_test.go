package z2m_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"sparekey"
	"sparekey/z2m"
)

// wireCommand is one message the adapter published for Zigbee2MQTT.
type wireCommand struct {
	device, verb string
	body         any // the decoded JSON
	raw          string
	qos          byte
	retain       bool
}

// fakeZ2M is a raw MQTT client playing Zigbee2MQTT: it records what
// arrives on <base>/+/set and <base>/+/get, and publishes what answer
// returns for it on <base>/<device>, one command at a time.
type fakeZ2M struct {
	cm   *autopaho.ConnectionManager
	base string
	in   chan wireCommand

	inMu     sync.Mutex // guards sending on in against closing it
	inClosed bool

	mu  sync.Mutex
	got []wireCommand
}

func startFakeZ2M(t *testing.T, broker, base string, answer func(wireCommand) []string) *fakeZ2M {
	t.Helper()
	u, err := z2m.BrokerURL(broker)
	if err != nil {
		t.Fatal(err)
	}
	z := &fakeZ2M{base: base, in: make(chan wireCommand, 100)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cm, err := autopaho.NewConnection(context.Background(), autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 20, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{ClientID: "fake-z2m-" + randomHex(),
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				rest, _ := strings.CutPrefix(pr.Packet.Topic, base+"/")
				i := strings.LastIndexByte(rest, '/')
				c := wireCommand{device: rest[:max(i, 0)], verb: rest[i+1:], raw: string(pr.Packet.Payload),
					qos: pr.Packet.QoS, retain: pr.Packet.Retain}
				if err := json.Unmarshal(pr.Packet.Payload, &c.body); err != nil {
					c.body = "not JSON: " + err.Error()
				}
				z.inMu.Lock()
				defer z.inMu.Unlock()
				if !z.inClosed {
					z.in <- c
				}
				return true, nil
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cm.AwaitConnection(ctx); err != nil {
		t.Fatal(err)
	}
	z.cm = cm
	done := make(chan struct{})
	t.Cleanup(func() {
		// Let the last answer's publish get its ack before hanging up.
		z.inMu.Lock()
		z.inClosed = true
		close(z.in)
		z.inMu.Unlock()
		<-done
		_ = cm.Disconnect(context.Background())
	})
	go func() {
		defer close(done)
		for c := range z.in {
			z.mu.Lock()
			z.got = append(z.got, c)
			z.mu.Unlock()
			for _, reply := range answer(c) {
				z.publish(t, c.device, reply)
			}
		}
	}()
	_, err = cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: base + "/+/set", QoS: 1, RetainAsPublished: true},
		{Topic: base + "/+/get", QoS: 1, RetainAsPublished: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// publish sends a state message as Zigbee2MQTT would: <base>/<device>.
func (z *fakeZ2M) publish(t *testing.T, device, payload string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := z.cm.Publish(ctx, &paho.Publish{Topic: z.base + "/" + device, QoS: 1, Payload: []byte(payload)}); err != nil {
		t.Errorf("fake Zigbee2MQTT publish: %v", err)
	}
}

// commands waits until n commands have arrived and returns them all.
func (z *fakeZ2M) commands(t *testing.T, n int) []wireCommand {
	t.Helper()
	var got []wireCommand
	poll(t, 5*time.Second, fmt.Sprintf("%d commands at Zigbee2MQTT", n), func() bool {
		z.mu.Lock()
		defer z.mu.Unlock()
		got = append([]wireCommand(nil), z.got...)
		return len(got) >= n
	})
	return got
}

// fakeLock is a generic Zigbee lock behind the fake Zigbee2MQTT, with
// Zigbee2MQTT's cache: every message carries the whole state, users
// deep-merged. It sends a programming event for a set PIN but none for a
// cleared one, so ClearPIN must be confirmed by reading the slot back.
type fakeLock struct {
	mu      sync.Mutex
	locked  bool
	jamNext bool // the next LOCK stops half-way
	users   map[string]map[string]any
}

func (l *fakeLock) state(extra map[string]any) string {
	msg := map[string]any{"battery": 87, "linkquality": 120, "lock_state": "unlocked", "state": "UNLOCK"}
	if l.locked {
		msg["lock_state"], msg["state"] = "locked", "LOCK"
	}
	if len(l.users) > 0 {
		msg["users"] = l.users
	}
	for k, v := range extra {
		msg[k] = v
	}
	b, _ := json.Marshal(msg)
	return string(b)
}

func (l *fakeLock) answer(c wireCommand) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.device != "front" {
		return nil // a lock nobody answers for
	}
	body, _ := c.body.(map[string]any)
	switch pin, _ := body["pin_code"].(map[string]any); {
	case c.verb == "set" && pin != nil:
		slot := fmt.Sprint(pin["user"])
		if code, ok := pin["pin_code"].(string); ok {
			l.users[slot] = map[string]any{"status": "enabled", "pin_code": code}
			return []string{l.state(map[string]any{"action": "pin_code_added", "action_source": 1,
				"action_source_name": "rf", "action_user": pin["user"]})}
		}
		l.users[slot] = map[string]any{"status": "available"}
		return nil
	case c.verb == "get" && pin != nil:
		// Zigbee2MQTT answers a read of an empty slot with its status.
		if slot := fmt.Sprint(pin["user"]); l.users[slot] == nil {
			l.users[slot] = map[string]any{"status": "available"}
		}
		return []string{l.state(nil)}
	case c.verb == "set" && body["state"] == "LOCK" && l.jamNext:
		l.jamNext = false
		return []string{`{"battery":87,"linkquality":120,"lock_state":"not_fully_locked","state":"UNLOCK"}`}
	case c.verb == "set" && (body["state"] == "LOCK" || body["state"] == "UNLOCK"):
		l.locked = body["state"] == "LOCK"
		action := "unlock"
		if l.locked {
			action = "lock"
		}
		return []string{l.state(map[string]any{"action": action, "action_source": 1, "action_source_name": "rf", "action_user": 0})}
	case c.verb == "get" && body["state"] == "":
		return []string{l.state(nil)}
	}
	return nil
}

// startAdapter starts an adapter and waits until it is subscribed.
func startAdapter(t *testing.T, cfg z2m.Config) *z2m.Adapter {
	t.Helper()
	subscribed := make(chan struct{})
	var once sync.Once
	cfg.OnConnect = func() { once.Do(func() { close(subscribed) }) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := z2m.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	select {
	case <-subscribed:
	case <-ctx.Done():
		t.Fatal("adapter not subscribed within 10s")
	}
	return a
}

func TestWhatZigbee2MQTTSees(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		lock := &fakeLock{users: map[string]map[string]any{}}
		z := startFakeZ2M(t, broker, base, lock.answer)
		evs := &events{}
		a := startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, Events: deliver(t, evs.add), CommandTimeout: 3 * time.Second})
		quick := startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, CommandTimeout: 300 * time.Millisecond})
		ctx := context.Background()

		z.publish(t, "front", lock.state(nil))
		if ev := evs.wait(t, "front", sparekey.EventState); ev.State != sparekey.LockStateUnlocked || ev.Battery != 87 {
			t.Fatalf("first state: %+v", ev)
		}

		// The slot's status is unknown: it is read first.
		if err := a.SetPIN(ctx, "front", 3, "1234"); err != nil {
			t.Fatalf("SetPIN: %v", err)
		}
		z.commands(t, 3)
		if err := a.ClearPIN(ctx, "front", 3); err != nil {
			t.Fatalf("ClearPIN: %v", err)
		}
		z.commands(t, 5)
		if err := a.Lock(ctx, "front"); err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if ev := evs.wait(t, "front", sparekey.EventLocked); ev.Source != "remote" || ev.State != sparekey.LockStateLocked {
			t.Fatalf("lock event: %+v", ev)
		}
		if err := a.Unlock(ctx, "front"); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		if ev := evs.wait(t, "front", sparekey.EventUnlocked); ev.Source != "remote" || ev.State != sparekey.LockStateUnlocked {
			t.Fatalf("unlock event: %+v", ev)
		}
		if err := a.Refresh(ctx, "front"); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		z.commands(t, 8)

		// A bolt that stops half-way: the lock answers not_fully_locked.
		lock.mu.Lock()
		lock.jamNext = true
		lock.mu.Unlock()
		if err := a.Lock(ctx, "front"); sparekey.ErrorCode(err) != sparekey.ELOCKJAMMED {
			t.Fatalf("Lock of a bolt that stops half-way: %v, want lock_jammed", err)
		}
		if ev := evs.wait(t, "front", sparekey.EventJammed); ev.State != sparekey.LockStateJammed {
			t.Fatalf("jam event: %+v", ev)
		}

		// A lock that never answers.
		start := time.Now()
		if err := quick.Lock(ctx, "attic"); sparekey.ErrorCode(err) != sparekey.ELOCKTIMEOUT {
			t.Fatalf("Lock of a silent lock: %v, want lock_timeout", err)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
			t.Fatalf("lock_timeout after %s with a 300ms CommandTimeout", d)
		}

		want := []struct{ device, verb, json string }{
			{"front", "get", `{"pin_code":{"user":3}}`},
			{"front", "set", `{"pin_code":{"user":3,"user_type":"unrestricted","user_enabled":true,"pin_code":"1234"}}`},
			{"front", "get", `{"pin_code":{"user":3}}`},
			{"front", "set", `{"pin_code":{"user":3,"pin_code":null}}`},
			{"front", "get", `{"pin_code":{"user":3}}`},
			{"front", "set", `{"state":"LOCK"}`},
			{"front", "set", `{"state":"UNLOCK"}`},
			{"front", "get", `{"state":""}`},
			{"front", "set", `{"state":"LOCK"}`},
			{"attic", "set", `{"state":"LOCK"}`},
		}
		got := z.commands(t, len(want))
		for i, w := range want {
			var body any
			if err := json.Unmarshal([]byte(w.json), &body); err != nil {
				t.Fatal(err)
			}
			if i >= len(got) {
				break
			}
			g := got[i]
			if g.device != w.device || g.verb != w.verb || !reflect.DeepEqual(g.body, body) {
				t.Errorf("command %d: %s/%s %s, want %s/%s %s", i, g.device, g.verb, g.raw, w.device, w.verb, w.json)
			}
			if g.qos != 1 || g.retain {
				t.Errorf("command %d (%s/%s %s): QoS %d retain %v, want QoS 1 not retained", i, g.device, g.verb, g.raw, g.qos, g.retain)
			}
		}
		if len(got) != len(want) {
			for _, g := range got[len(want):] {
				t.Errorf("unexpected command: %s/%s %s", g.device, g.verb, g.raw)
			}
		}
	})
}

// Zigbee2MQTT caches users (deep-merged) and repeats it in every message
// of the lock, so a slot read long ago rides along on a battery report.
// Without expose_pin (the default) a slot in use reads
// {"status":"enabled"} whatever its code: a report that only repeats the
// cache must not confirm a new code, nor a clear.
func TestCommandsNotConfirmedByCachedUsers(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		// The locks are asleep: they answer nothing, but their periodic
		// battery report arrives while the command waits.
		reports := map[string]string{
			"porch": `{"battery":86,"linkquality":110,"lock_state":"locked","state":"LOCK","users":{"3":{"status":"enabled"}}}`,
			"shed":  `{"battery":86,"linkquality":110,"lock_state":"locked","state":"LOCK","users":{"3":{"status":"available"}}}`,
		}
		z := startFakeZ2M(t, broker, base, func(c wireCommand) []string {
			if c.verb == "set" {
				return []string{reports[c.device]}
			}
			return nil
		})
		evs := &events{}
		a := startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, Events: deliver(t, evs.add), CommandTimeout: 500 * time.Millisecond})
		z.publish(t, "porch", strings.Replace(reports["porch"], `"battery":86`, `"battery":87`, 1))
		z.publish(t, "shed", strings.Replace(reports["shed"], `"battery":86`, `"battery":87`, 1))
		evs.wait(t, "porch", sparekey.EventState)
		evs.wait(t, "shed", sparekey.EventState)
		if err := a.SetPIN(context.Background(), "porch", 3, "5678"); sparekey.ErrorCode(err) != sparekey.ELOCKTIMEOUT {
			t.Errorf("SetPIN answered only by the cache: %v, want lock_timeout", err)
		}
		if err := a.ClearPIN(context.Background(), "shed", 3); sparekey.ErrorCode(err) != sparekey.ELOCKTIMEOUT {
			t.Errorf("ClearPIN answered only by the cache: %v, want lock_timeout", err)
		}
	})
}
