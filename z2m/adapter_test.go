package z2m_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"sparekey"
	"sparekey/device"
	"sparekey/sim"
	"sparekey/z2m"
)

// brokers returns the brokers every adapter test runs against: an
// embedded one always, and the Mosquitto at SPAREKEY_TEST_MQTT when set.
func brokers(t *testing.T) map[string]string {
	t.Helper()
	b, err := sim.StartBroker("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m := map[string]string{"embedded": b.URL()}
	if u := os.Getenv("SPAREKEY_TEST_MQTT"); u != "" {
		m["mosquitto"] = u
	} else {
		t.Log("SPAREKEY_TEST_MQTT is not set: testing against the embedded broker only (set it to tcp://127.0.0.1:1883 to add Mosquitto)")
	}
	return m
}

// eachBroker runs fn once per broker, each with a topic prefix of its own
// so tests sharing a Mosquitto never see each other's retained messages.
func eachBroker(t *testing.T, fn func(t *testing.T, broker, base string)) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			base := "sparekey-test-" + randomHex()
			t.Cleanup(func() { clearRetained(t, url, base) })
			fn(t, url, base)
		})
	}
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clearRetained deletes the retained messages under base, so a long-lived
// Mosquitto does not keep every test's availability topics.
func clearRetained(t *testing.T, broker, base string) {
	u, _ := z2m.BrokerURL(broker)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	var topics []string
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{ServerUrls: []*url.URL{u}, KeepAlive: 10,
		CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{ClientID: "cleanup-" + randomHex(), OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				if pr.Packet.Retain && len(pr.Packet.Payload) > 0 {
					mu.Lock()
					topics = append(topics, pr.Packet.Topic)
					mu.Unlock()
				}
				return true, nil
			}}}})
	if err != nil || cm.AwaitConnection(ctx) != nil {
		t.Logf("cleanup: cannot connect to %s", broker)
		return
	}
	defer cm.Disconnect(context.Background())
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: base + "/#", QoS: 1}}}); err != nil {
		return
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, topic := range topics {
		_, _ = cm.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: nil})
	}
}

// events collects what the adapter hands its handler.
type events struct {
	mu  sync.Mutex
	all []sparekey.DeviceEvent
}

func (e *events) add(ev sparekey.DeviceEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// deliver is a started device-layer Delivery that hands every event to
// add, stopped when the test ends (after the adapters, which stop first).
func deliver(t *testing.T, add func(sparekey.DeviceEvent)) *device.Delivery {
	return deliverOwned(t, add, nil)
}

// deliverOwned is deliver for an instance that owns only the locks owns
// says it does.
func deliverOwned(t *testing.T, add func(sparekey.DeviceEvent), owns func(string) bool) *device.Delivery {
	t.Helper()
	d := device.NewDelivery(device.DeliveryConfig{Owns: owns, KeepFor: time.Minute,
		Recorder: recordFunc(func(_ context.Context, ev sparekey.DeviceEvent) error { add(ev); return nil })})
	d.Start(context.Background())
	t.Cleanup(d.Stop)
	return d
}

type recordFunc func(context.Context, sparekey.DeviceEvent) error

func (f recordFunc) HandleEvent(ctx context.Context, ev sparekey.DeviceEvent) error {
	return f(ctx, ev)
}

// wait returns the first event of kind for device seen after skip earlier
// ones, failing the test after 5 s.
func (e *events) wait(t *testing.T, device string, kind sparekey.DeviceEventKind) sparekey.DeviceEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for i, ev := range e.all {
			if ev.Device == device && ev.Kind == kind {
				e.all = append(e.all[:i:i], e.all[i+1:]...)
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Fatalf("no %s event from %s; have %+v", kind, device, e.all)
	return sparekey.DeviceEvent{}
}

type rig struct {
	fleet   *sim.Fleet
	bridge  *sim.Bridge
	adapter *z2m.Adapter
	events  *events
}

func newRig(t *testing.T, broker, base string, devices ...string) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := &rig{fleet: sim.New(sparekey.SystemClock{}), events: &events{}}
	for _, d := range devices {
		r.fleet.Add(d, 30)
	}
	a, err := z2m.Start(ctx, z2m.Config{Broker: broker, BaseTopic: base, Events: deliver(t, r.events.add), CommandTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	r.adapter = a
	b, err := sim.StartBridge(ctx, r.fleet, sim.BridgeConfig{Broker: broker, BaseTopic: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	r.bridge = b
	// The adapter reads its first state message about a lock as the
	// baseline, not as news; tests change a lock only after it, so a jam
	// is seen as a jam and not as the state the lock started in.
	for _, d := range devices {
		r.events.wait(t, d, sparekey.EventOnline)
		r.events.wait(t, d, sparekey.EventState)
	}
	return r
}

func TestCommandsConfirmedByTheLock(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		r := newRig(t, broker, base, "front")
		ctx := context.Background()
		if err := r.adapter.SetPIN(ctx, "front", 4, "482916"); err != nil {
			t.Fatalf("SetPIN: %v", err)
		}
		if got := r.fleet.Programmed("front")[4]; got != "482916" {
			t.Fatalf("slot 4 holds %q after a confirmed SetPIN", got)
		}
		res, _ := r.fleet.Keypad("front", "482916")
		if res.Result != sim.KeypadUnlocked {
			t.Fatalf("keypad: %+v", res)
		}
		ev := r.events.wait(t, "front", sparekey.EventKeypadUnlock)
		if ev.Slot != 4 || ev.Source != "keypad" || ev.State != sparekey.LockStateUnlocked {
			t.Fatalf("keypad unlock event: %+v", ev)
		}
		if err := r.adapter.Lock(ctx, "front"); err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if ev := r.events.wait(t, "front", sparekey.EventLocked); ev.Source != "remote" {
			t.Fatalf("lock event: %+v", ev)
		}
		if err := r.adapter.ClearPIN(ctx, "front", 4); err != nil {
			t.Fatalf("ClearPIN: %v", err)
		}
		if _, ok := r.fleet.Programmed("front")[4]; ok {
			t.Fatal("slot 4 still programmed after a confirmed ClearPIN")
		}
		res, _ = r.fleet.Keypad("front", "482916")
		if res.Result != sim.KeypadRejected {
			t.Fatalf("cleared code: %+v", res)
		}
		r.events.wait(t, "front", sparekey.EventWrongCode)
	})
}

func TestJamOfflineAndUnanswered(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		r := newRig(t, broker, base, "front")
		ctx := context.Background()
		jammed, online := true, false
		if err := r.fleet.SetState("front", sim.StateChange{Jammed: &jammed}); err != nil {
			t.Fatal(err)
		}
		if ev := r.events.wait(t, "front", sparekey.EventJammed); ev.State != sparekey.LockStateJammed {
			t.Fatalf("jam event: %+v", ev)
		}
		if err := r.adapter.Unlock(ctx, "front"); sparekey.ErrorCode(err) != sparekey.ELOCKJAMMED {
			t.Fatalf("Unlock while jammed: %v, want lock_jammed", err)
		}
		jammed = false
		if err := r.fleet.SetState("front", sim.StateChange{Jammed: &jammed}); err != nil {
			t.Fatal(err)
		}
		r.events.wait(t, "front", sparekey.EventJamCleared)

		if err := r.fleet.SetState("front", sim.StateChange{Online: &online}); err != nil {
			t.Fatal(err)
		}
		r.events.wait(t, "front", sparekey.EventOffline)
		if err := r.adapter.SetPIN(ctx, "front", 1, "731845"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
			t.Fatalf("SetPIN while offline: %v, want lock_offline", err)
		}

		// A device nobody answers for times out; Zigbee2MQTT's error log
		// fails it early.
		start := time.Now()
		err := r.adapter.Lock(ctx, "ghost")
		if code := sparekey.ErrorCode(err); code != sparekey.ELOCKFAILED && code != sparekey.ELOCKTIMEOUT {
			t.Fatalf("Lock of an unknown device: %v", err)
		}
		t.Logf("unknown device answered %v after %s", err, time.Since(start).Round(time.Millisecond))
	})
}

// TestEventsWhileAwayAreDelivered: with a session that outlives the
// connection, a keypad use reported while Sparekey is down (QoS 1) is
// handed over when it comes back, stamped with Zigbee2MQTT's last_seen.
//
// Only on Mosquitto: a kept session is what --mqtt gives a real broker.
// The demo's embedded broker keeps none (its sessions start clean), and
// mochi-mqtt taking over a session lost the message now and then under
// -race in CI (see the adapter's ConnectPacketBuilder).
func TestEventsWhileAwayAreDelivered(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		if strings.HasPrefix(t.Name(), "TestEventsWhileAwayAreDelivered/embedded") {
			t.Skip("kept sessions are tested on Mosquitto (SPAREKEY_TEST_MQTT); the embedded broker keeps none in Sparekey")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		id := "sparekey-test-" + randomHex()
		cfg := z2m.Config{Broker: broker, BaseTopic: base, ClientID: id, SessionExpiry: time.Minute}
		first, err := z2m.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		first.Stop()

		u, _ := z2m.BrokerURL(broker)
		z, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{ServerUrls: []*url.URL{u}, KeepAlive: 10,
			CleanStartOnInitialConnection: true, ClientConfig: paho.ClientConfig{ClientID: "z2m-" + randomHex()}})
		if err != nil || z.AwaitConnection(ctx) != nil {
			t.Fatalf("connect: %v", err)
		}
		defer z.Disconnect(context.Background())
		at := time.Now().Add(-2 * time.Minute).UTC().Truncate(time.Millisecond)
		payload := `{"action":"unlock","action_source":0,"action_source_name":"keypad","action_user":3,"battery":80,"last_seen":"` +
			at.Format(time.RFC3339Nano) + `","lock_state":"unlocked","state":"UNLOCK"}`
		if _, err := z.Publish(ctx, &paho.Publish{Topic: base + "/front", QoS: 1, Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}

		got := &events{}
		cfg.Events = deliver(t, got.add)
		second, err := z2m.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Stop()
		ev := got.wait(t, "front", sparekey.EventKeypadUnlock)
		if ev.Slot != 3 || !ev.At.Equal(at) {
			t.Fatalf("event from while away = %+v, want slot 3 at %v", ev, at)
		}
	})
}
