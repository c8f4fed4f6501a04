package zwave

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sparekey"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// dump is a state dump with node 2 a lock (locked, jam-free, 80%) and node
// 3 a sensor.
const dump = `{"state":{"nodes":[
 {"nodeId":1,"status":4,"ready":true,"values":[]},
 {"nodeId":2,"status":4,"ready":true,"values":[
  {"commandClass":98,"endpoint":0,"property":"currentMode","value":255},
  {"commandClass":99,"endpoint":0,"property":"userIdStatus","propertyKey":1,"value":0},
  {"commandClass":113,"endpoint":0,"property":"Access Control","propertyKey":"Lock state","value":0},
  {"commandClass":128,"endpoint":0,"property":"level","value":80}]},
 {"nodeId":3,"status":4,"ready":true,"values":[{"commandClass":49,"endpoint":0,"property":"Air temperature","value":21}]}
]}}`

func baselined(t *testing.T) *translator {
	t.Helper()
	var st state
	if err := json.Unmarshal([]byte(dump), &st); err != nil {
		t.Fatal(err)
	}
	tr := newTranslator("bldg-a")
	got := tr.baseline(st.State.Nodes, t0)
	if len(got) != 1 || len(got["zwave://bldg-a/2"]) != 2 {
		t.Fatalf("baseline = %+v, want the lock's online and state events only", got)
	}
	evs := got["zwave://bldg-a/2"]
	if evs[0].Kind != sparekey.EventOnline || evs[1].Kind != sparekey.EventState ||
		evs[1].State != sparekey.LockStateLocked || evs[1].Battery != 80 {
		t.Fatalf("baseline = %+v", evs)
	}
	return tr
}

func TestTranslate(t *testing.T) {
	type want struct {
		kind    sparekey.DeviceEventKind
		slot    int
		source  string
		state   sparekey.LockState
		battery int
	}
	value := func(cc int, prop, key string, v any) string {
		b, _ := json.Marshal(map[string]any{"commandClass": cc, "endpoint": 0, "property": prop, "propertyKey": key, "newValue": v})
		if key == "" {
			b, _ = json.Marshal(map[string]any{"commandClass": cc, "endpoint": 0, "property": prop, "newValue": v})
		}
		return `{"source":"node","event":"value updated","nodeId":2,"args":` + string(b) + `}`
	}
	notification := func(typ, ev int, params string) string {
		b, _ := json.Marshal(map[string]any{"type": typ, "event": ev, "parameters": json.RawMessage(params)})
		return `{"source":"node","event":"notification","nodeId":2,"endpointIndex":0,"ccId":113,"args":` + string(b) + `}`
	}
	for _, tc := range []struct {
		name   string
		events []string // in order; the last one's events are checked
		want   []want
	}{
		{"keypad unlock by slot", []string{notification(6, 6, `{"userId":3}`)},
			[]want{{sparekey.EventKeypadUnlock, 2, "keypad", sparekey.LockStateUnlocked, -1}}},
		{"keypad unlock without a user", []string{notification(6, 6, `null`)},
			[]want{{sparekey.EventKeypadUnlock, -1, "keypad", sparekey.LockStateUnlocked, -1}}},
		{"the bolt's report after a keypad unlock adds nothing",
			[]string{notification(6, 6, `{"userId":3}`), value(98, "currentMode", "", 0)}, nil},
		{"keypad lock", []string{notification(6, 5, `{"userId":1}`)},
			[]want{{sparekey.EventLocked, -1, "keypad", sparekey.LockStateLocked, -1}}},
		{"manual unlock", []string{notification(6, 2, `null`)},
			[]want{{sparekey.EventUnlocked, -1, "manual", sparekey.LockStateUnlocked, -1}}},
		{"RF lock", []string{notification(6, 3, `null`)},
			[]want{{sparekey.EventLocked, -1, "remote", sparekey.LockStateLocked, -1}}},
		{"auto lock", []string{notification(6, 9, `null`)},
			[]want{{sparekey.EventLocked, -1, "auto", sparekey.LockStateLocked, -1}}},
		{"wrong code", []string{notification(6, 19, `null`)},
			[]want{{sparekey.EventWrongCode, -1, "keypad", "", -1}}},
		{"invalid code, home security", []string{notification(7, 4, `null`)},
			[]want{{sparekey.EventWrongCode, -1, "keypad", "", -1}}},
		{"keypad disabled as a state", []string{value(113, "Access Control", "Keypad state", 16)},
			[]want{{sparekey.EventKeypadLocked, -1, "keypad", "", -1}}},
		{"jam as the Lock state", []string{value(113, "Access Control", "Lock state", 11)},
			[]want{{sparekey.EventJammed, -1, "", sparekey.LockStateJammed, -1}}},
		{"a jam is one jam however it is told",
			[]string{value(113, "Access Control", "Lock state", 11), notification(6, 11, `null`)}, nil},
		{"currentMode 254 after the jam adds a state, not a jam",
			[]string{value(113, "Access Control", "Lock state", 11), value(98, "currentMode", "", 254)},
			[]want{{sparekey.EventState, -1, "", sparekey.LockStateJammed, 80}}},
		{"the jam cleared",
			[]string{value(113, "Access Control", "Lock state", 11), value(113, "Access Control", "Lock state", 0)},
			[]want{{sparekey.EventJamCleared, -1, "", sparekey.LockStateLocked, -1}}},
		{"remote unlock shows as the bolt's state", []string{value(98, "currentMode", "", 0)},
			[]want{{sparekey.EventState, -1, "", sparekey.LockStateUnlocked, 80}}},
		{"the same mode again is nothing", []string{value(98, "currentMode", "", 255)}, nil},
		{"battery", []string{value(128, "level", "", 42)},
			[]want{{sparekey.EventBattery, -1, "", "", 42}}},
		{"a battery level out of range is dropped", []string{value(128, "level", "", 255)}, nil},
		{"replace the battery soon (Battery v2)", []string{value(128, "rechargeOrReplace", "", 1)},
			[]want{{sparekey.EventBattery, -1, "", "", 10}}},
		{"no need to replace the battery is no event", []string{value(128, "rechargeOrReplace", "", 0)}, nil},
		{"replace battery now", []string{value(113, "Power Management", "Battery maintenance status", 11)},
			[]want{{sparekey.EventBattery, -1, "", "", 10}}},
		{"low when the level already says so is nothing",
			[]string{value(128, "level", "", 8), value(113, "Power Management", "Battery maintenance status", 10)}, nil},
		{"codes make no event", []string{value(99, "userIdStatus", "1", 1)}, nil},
		{"node dead", []string{`{"source":"node","event":"dead","nodeId":2}`},
			[]want{{sparekey.EventOffline, -1, ReasonNode, "", -1}}},
		{"node alive again", []string{`{"source":"node","event":"dead","nodeId":2}`, `{"source":"node","event":"alive","nodeId":2}`},
			[]want{{sparekey.EventOnline, -1, "", "", -1}}},
		{"alive when alive is nothing", []string{`{"source":"node","event":"alive","nodeId":2}`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := baselined(t)
			var got []sparekey.DeviceEvent
			for _, raw := range tc.events {
				var ev event
				if err := json.Unmarshal([]byte(raw), &ev); err != nil {
					t.Fatal(err)
				}
				_, got, _, _ = tr.translate(&ev, t0)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events = %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Device != "zwave://bldg-a/2" || g.Kind != w.kind || g.Slot != w.slot || g.Source != w.source ||
					g.State != w.state || g.Battery != w.battery || !g.At.Equal(t0) {
					t.Errorf("event %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestTranslateIgnoresOtherNodes(t *testing.T) {
	tr := baselined(t)
	for _, raw := range []string{
		`{"source":"node","event":"value updated","nodeId":3,"args":{"commandClass":49,"property":"Air temperature","newValue":22}}`,
		`{"source":"node","event":"notification","nodeId":3,"ccId":113,"args":{"type":6,"event":6}}`,
		`{"source":"node","event":"dead","nodeId":3}`,
		`{"source":"controller","event":"inclusion started"}`,
		`{"source":"node","event":"value updated","nodeId":0,"args":{}}`,
	} {
		var ev event
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			t.Fatal(err)
		}
		if dev, evs, _, ok := tr.translate(&ev, t0); ok || len(evs) != 0 {
			t.Errorf("%s: %s %+v", raw, dev, evs)
		}
	}
}

func TestHubDown(t *testing.T) {
	tr := baselined(t)
	got := tr.hubDown(t0)
	evs := got["zwave://bldg-a/2"]
	if len(got) != 1 || len(evs) != 1 || evs[0].Kind != sparekey.EventOffline || evs[0].Source != ReasonHub {
		t.Fatalf("hubDown = %+v", got)
	}
	if again := tr.hubDown(t0); len(again) != 0 {
		t.Fatalf("a second hubDown = %+v, want nothing", again)
	}
}

// FuzzTranslate feeds the translator whatever a server might send: it may
// drop a message, never panic, and only ever speak of locks.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		`{"type":"event","event":{"source":"node","event":"notification","nodeId":2,"ccId":113,"args":{"type":6,"event":6,"parameters":{"userId":3}}}}`,
		`{"type":"event","event":{"source":"node","event":"value updated","nodeId":2,"args":{"commandClass":98,"property":"currentMode","newValue":254}}}`,
		`{"type":"event","event":{"source":"node","event":"value updated","nodeId":2,"args":{"commandClass":113,"property":"Access Control","propertyKey":"Lock state","newValue":11}}}`,
		`{"type":"event","event":{"source":"node","event":"value added","nodeId":9,"args":{"commandClass":99,"property":"userCode","propertyKey":1.5,"newValue":"x"}}}`,
		`{"type":"event","event":{"source":"node","event":"dead","nodeId":2}}`,
		`{"type":"result","messageId":"1","success":false,"errorCode":"zwave_error","zwaveErrorCode":204}`,
		dump,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := newTranslator("h")
		var st state
		if json.Unmarshal(b, &st) == nil {
			tr.baseline(st.State.Nodes, t0)
		}
		var m incoming
		if json.Unmarshal(b, &m) != nil {
			return
		}
		dev, evs, _, ok := tr.translate(m.Event, t0)
		if !ok && len(evs) > 0 {
			t.Fatalf("events %+v without ok", evs)
		}
		for _, e := range evs {
			if e.Device != dev {
				t.Fatalf("event of %s in a message of %s", e.Device, dev)
			}
			if _, _, err := ParseAddress(dev); err != nil {
				t.Fatalf("event for %q: %v", dev, err)
			}
			if e.Kind == sparekey.EventKeypadUnlock && e.Slot < -1 {
				t.Fatalf("slot %d", e.Slot)
			}
		}
	})
}

// A command zwave-js could not carry out is worded for the lock's health
// with zwave-js's error code, once; the codes that mean the lock was not
// reached make it wait (offline) or retry (timeout).
func TestCommandError(t *testing.T) {
	d := &Driver{}
	for _, tc := range []struct {
		err  error
		code string
		text string
	}{
		{&errServer{code: "zwave_error", zwave: 202, message: "The node did not respond after 1 attempts, it is presumed dead (ZW0202)"}, sparekey.ELOCKOFFLINE, "Z-Wave error ZW0202: The node did not respond after 1 attempts, it is presumed dead"},
		{&errServer{code: "zwave_error", zwave: 204, message: "The node did not acknowledge the command (ZW0204)"}, sparekey.ELOCKTIMEOUT, "Z-Wave error ZW0204: The node did not acknowledge the command"},
		{&errServer{code: "zwave_error", zwave: 201, message: "Timed out"}, sparekey.ELOCKTIMEOUT, "ZW0201"},
		{&errServer{code: "zwave_error", zwave: 322, message: "Not supported"}, sparekey.ELOCKFAILED, "ZW0322"},
		{&errServer{code: "node_not_found", message: "Node 9 not found"}, sparekey.ELOCKFAILED, "node_not_found"},
		{errHubDown, sparekey.ELOCKOFFLINE, "unreachable"},
		{errNoResult, sparekey.ELOCKTIMEOUT, "did not confirm"},
	} {
		err := d.commandError("zwave://h/2", "program slot 1 of", tc.err)
		if sparekey.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.text) || strings.Count(err.Error(), "ZW0") > 1 {
			t.Errorf("%v → %v (%s), want %s containing %q", tc.err, err, sparekey.ErrorCode(err), tc.code, tc.text)
		}
	}
}
