package z2m

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"sparekey"
)

var knownKinds = map[sparekey.DeviceEventKind]bool{
	sparekey.EventKeypadUnlock: true, sparekey.EventWrongCode: true, sparekey.EventKeypadLocked: true,
	sparekey.EventLocked: true, sparekey.EventUnlocked: true, sparekey.EventJammed: true,
	sparekey.EventJamCleared: true, sparekey.EventBattery: true, sparekey.EventOnline: true,
	sparekey.EventOffline: true, sparekey.EventState: true, sparekey.EventReset: true,
}

var knownStates = map[sparekey.LockState]bool{
	sparekey.LockStateUnknown: true, sparekey.LockStateLocked: true,
	sparekey.LockStateUnlocked: true, sparekey.LockStateJammed: true,
}

// FuzzParseReport feeds a message to ParseReport and, when it parses, to a
// device that has already seen one of the recorded messages (or none), with
// or without a command waiting.
func FuzzParseReport(f *testing.F) {
	for i, p := range recorded {
		f.Add([]byte(p), uint8(i), i%3 == 0)
	}
	for _, p := range []string{"", "null", "[]", `"x"`, "{", `{"battery":"NaN"}`, `{"battery":1e400}`,
		`{"action_user":-7,"action":"unlock","action_source_name":"keypad"}`, `{"users":{"65535":{"pin_code":1e9}}}`,
		`{"lock_state":"not_fully_locked","action":"pin_code_added"}`, `{"state":"UNLOCK"}`, `{"alarm":"deadbolt_jammed"}`} {
		f.Add([]byte(p), uint8(0), false)
	}
	f.Fuzz(func(t *testing.T, payload []byte, before uint8, commanding bool) {
		r, err := ParseReport(payload)
		if err != nil {
			if r != nil {
				t.Fatalf("a report with the error %v", err)
			}
			return
		}
		if len(payload) > MaxPayload {
			t.Fatalf("read a payload of %d bytes", len(payload))
		}
		if r.Battery != nil && (*r.Battery < 0 || *r.Battery > 100) {
			t.Fatalf("battery %d", *r.Battery)
		}
		for slot := range r.Users {
			if slot < 0 || slot > 65535 {
				t.Fatalf("users slot %d", slot)
			}
		}

		const name = "unit-101-front"
		now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
		d := newTracked()
		if n := int(before) % (len(recorded) + 1); n > 0 {
			prev, err := ParseReport([]byte(recorded[n-1]))
			if err != nil {
				t.Fatal(err)
			}
			d.report(name, prev, now)
		}
		if commanding {
			d.commanding = 1
		}
		for range 2 { // the same message twice: the second is a repeat
			for _, e := range d.report(name, r, now) {
				checkEvent(t, name, now, e)
			}
		}
		for _, e := range d.availability(name, true, now) {
			checkEvent(t, name, now, e)
		}
	})
}

func checkEvent(t *testing.T, name string, now time.Time, e sparekey.DeviceEvent) {
	t.Helper()
	switch {
	case e.Device != name:
		t.Fatalf("event for %q: %+v", e.Device, e)
	case !knownKinds[e.Kind]:
		t.Fatalf("unknown kind: %+v", e)
	case !e.At.Equal(now):
		t.Fatalf("event at %s: %+v", e.At, e)
	case e.State != "" && !knownStates[e.State]:
		t.Fatalf("unknown state: %+v", e)
	case e.Battery < -1 || e.Battery > 100:
		t.Fatalf("battery: %+v", e)
	case e.Kind == sparekey.EventKeypadUnlock && e.Slot < 0:
		t.Fatalf("keypad unlock without a slot: %+v", e)
	case e.Kind != sparekey.EventKeypadUnlock && e.Kind != sparekey.EventWrongCode && e.Slot != -1:
		t.Fatalf("slot on a %s event: %+v", e.Kind, e)
	}
}

func FuzzParseAvailability(f *testing.F) {
	for _, p := range []string{`{"state":"online"}`, `{"state":"offline"}`, "online", "offline", " Online\n",
		"", "{", `{"state":1}`, `"online"`, `{"state":"online","state":"offline"}`} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		online, err := ParseAvailability(payload)
		if err != nil {
			return
		}
		word := "offline"
		if online {
			word = "online"
		}
		if !strings.Contains(strings.ToLower(string(payload)), word) && !bytes.Contains(payload, []byte(`\u`)) {
			t.Fatalf("%q read as %s", payload, word)
		}
		const name = "unit-101-front"
		now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
		d := newTracked()
		got := d.availability(name, online, now)
		want := sparekey.EventOffline
		if online {
			want = sparekey.EventOnline
		}
		if len(got) != 1 || got[0].Kind != want {
			t.Fatalf("first availability %q: %+v", payload, got)
		}
		checkEvent(t, name, now, got[0])
		if again := d.availability(name, online, now); len(again) != 0 {
			t.Fatalf("repeated availability %q: %+v", payload, again)
		}
	})
}

// FuzzFailedDevice checks that a device named in a bridge error is taken
// from the message, never made up.
func FuzzFailedDevice(f *testing.F) {
	for _, p := range []string{
		`{"level":"error","message":"Publish 'set' 'pin_code' to 'unit-101-front' failed: 'Error: user must be in range for device'"}`,
		`{"level":"error","message":"Entity 'unit-102-front' is unknown"}`,
		`{"level":"info","message":"Publish 'set' 'state' to 'a' failed"}`,
		`{"level":"error","message":"Publish 'set' 'state' to '' failed: 'x'"}`,
	} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		name := failedDevice(payload)
		if name == "" {
			return
		}
		if !bytes.Contains(payload, []byte(`"error"`)) {
			t.Fatalf("device %q from a non-error line %q", name, payload)
		}
	})
}
