package z2m_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/z2m"
)

// plainLock is a lock that sends no programming events and does not
// expose PINs: only reading a slot back tells what it holds, and
// Zigbee2MQTT's cached users ride along on every message.
type plainLock struct {
	mu    sync.Mutex
	codes map[int]string // what the lock really holds
	cache map[int]string // Zigbee2MQTT's cached status per slot
}

func (l *plainLock) state() string {
	users := map[string]any{}
	for slot, status := range l.cache {
		users[fmt.Sprint(slot)] = map[string]any{"status": status}
	}
	b, _ := json.Marshal(map[string]any{"battery": 60, "lock_state": "locked", "state": "LOCK", "users": users})
	return string(b)
}

func (l *plainLock) answer(c wireCommand) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	body, _ := c.body.(map[string]any)
	pin, _ := body["pin_code"].(map[string]any)
	if pin == nil {
		return nil
	}
	slot := int(pin["user"].(float64))
	switch c.verb {
	case "set":
		if code, ok := pin["pin_code"].(string); ok {
			l.codes[slot] = code
		} else {
			delete(l.codes, slot)
		}
		return nil // no event: nothing is published
	case "get":
		l.cache[slot] = "available"
		if l.codes[slot] != "" {
			l.cache[slot] = "enabled"
		}
		return []string{l.state()}
	}
	return nil
}

// TestPlainLockCommands: on a lock that shows neither events nor PINs,
// clearing an empty slot, clearing twice and programming a slot never read
// all confirm, each by a real change of the slot's status.
func TestPlainLockCommands(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		lock := &plainLock{codes: map[int]string{4: "555111"}, cache: map[int]string{}}
		z := startFakeZ2M(t, broker, base, lock.answer)
		a := startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, CommandTimeout: 2 * time.Second})
		ctx := context.Background()
		z.publish(t, "door", lock.state())

		if err := a.ClearPIN(ctx, "door", 7); err != nil { // never used
			t.Fatalf("ClearPIN of an empty slot: %v", err)
		}
		if err := a.SetPIN(ctx, "door", 4, "482916"); err != nil { // held another code, never read
			t.Fatalf("SetPIN over an unread slot: %v", err)
		}
		if err := a.ClearPIN(ctx, "door", 4); err != nil {
			t.Fatalf("ClearPIN: %v", err)
		}
		if err := a.ClearPIN(ctx, "door", 4); err != nil {
			t.Fatalf("ClearPIN again: %v", err)
		}
		lock.mu.Lock()
		defer lock.mu.Unlock()
		if len(lock.codes) != 0 {
			t.Fatalf("codes left on the lock: %v", lock.codes)
		}
	})
}

// TestZigbee2MQTTOffline: when Zigbee2MQTT itself goes offline every lock
// is reported offline and commands fail at once; when it is back they are
// online again.
func TestZigbee2MQTTOffline(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		lock := &fakeLock{users: map[string]map[string]any{}}
		z := startFakeZ2M(t, broker, base, lock.answer)
		evs := &events{}
		a := startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, Events: deliver(t, evs.add), CommandTimeout: 2 * time.Second})
		ctx := context.Background()
		z.publish(t, "front", lock.state(nil))
		evs.wait(t, "front", sparekey.EventState)

		z.publish(t, "bridge/state", `{"state":"offline"}`)
		evs.wait(t, "front", sparekey.EventOffline)
		start := time.Now()
		if err := a.Lock(ctx, "front"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
			t.Fatalf("Lock while Zigbee2MQTT is offline: %v, want lock_offline", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("lock_offline took %s", d)
		}
		z.publish(t, "bridge/state", `online`) // the legacy plain form
		evs.wait(t, "front", sparekey.EventOnline)
		if err := a.Lock(ctx, "front"); err != nil {
			t.Fatalf("Lock after Zigbee2MQTT is back: %v", err)
		}
	})
}
