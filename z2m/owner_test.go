package z2m_test

import (
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/z2m"
)

// TestReportsOfOtherOwnersKeptAndReplayed: an instance that does not own a
// lock hands none of its reports over, keeps them, and replays them,
// marked, once it owns the lock.
func TestReportsOfOtherOwnersKeptAndReplayed(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		lock := &fakeLock{users: map[string]map[string]any{}}
		z := startFakeZ2M(t, broker, base, lock.answer)
		var owns atomic.Bool
		evs := &events{}
		events := deliverOwned(t, evs.add, func(string) bool { return owns.Load() })
		startAdapter(t, z2m.Config{Broker: broker, BaseTopic: base, Events: events})
		z.publish(t, "front", lock.state(nil))
		z.publish(t, "front", `{"action":"unlock","action_source":0,"action_source_name":"keypad","action_user":2,"battery":87,"lock_state":"unlocked","state":"UNLOCK"}`)
		time.Sleep(300 * time.Millisecond)
		evs.mu.Lock()
		n := len(evs.all)
		evs.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d events handed over for a lock this instance does not own", n)
		}
		owns.Store(true)
		events.Replay([]string{"front"})
		ev := evs.wait(t, "front", sparekey.EventKeypadUnlock)
		if !ev.Replayed || ev.Slot != 2 {
			t.Fatalf("replayed event = %+v, want the keypad unlock of slot 2 marked Replayed", ev)
		}
		evs.mu.Lock()
		defer evs.mu.Unlock()
		for _, e := range evs.all {
			if e.Kind == sparekey.EventState {
				t.Fatalf("a state report was replayed: %+v", e)
			}
		}
	})
}
