package z2m

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sparekey"
)

// Messages in the shape Zigbee2MQTT publishes them on zigbee2mqtt/<name>:
// the device's whole cached state (deep-merged; alarm, users, tamper stay
// cached) plus, in an event's message only, the action keys
// (docs/zigbee2mqtt.md). Keys are in the order Zigbee2MQTT sorts them.
const (
	// A generic lock (Kwikset, Schlage, Yale Assure): fz.lock,
	// fz.lock_operation_event, fz.lock_programming_event.
	msgLocked          = `{"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgUnlocked        = `{"battery":87,"linkquality":120,"lock_state":"unlocked","state":"UNLOCK"}`
	msgNotFullyLocked  = `{"battery":87,"linkquality":120,"lock_state":"not_fully_locked","state":"UNLOCK"}`
	msgLockedDoor      = `{"battery":87,"door_state":"closed","linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgDoorJammed      = `{"battery":87,"door_state":"error_jammed","linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgKeypadUnlock    = `{"action":"unlock","action_source":0,"action_source_name":"keypad","action_user":3,"battery":87,"linkquality":120,"lock_state":"unlocked","state":"UNLOCK"}`
	msgKeypadNoUser    = `{"action":"unlock","action_source":0,"action_source_name":"keypad","action_user":null,"battery":87,"linkquality":120,"lock_state":"unlocked","state":"UNLOCK"}`
	msgRFUnlock        = `{"action":"unlock","action_source":1,"action_source_name":"rf","action_user":0,"battery":87,"linkquality":120,"lock_state":"unlocked","state":"UNLOCK"}`
	msgRFLock          = `{"action":"lock","action_source":1,"action_source_name":"rf","action_user":0,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgManualLock      = `{"action":"manual_lock","action_source":2,"action_source_name":"manual","action_user":0,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgAutoLock        = `{"action":"auto_lock","action_source":255,"action_user":0,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgWrongCode       = `{"action":"unlock_failure_invalid_pin_or_id","action_source":0,"action_source_name":"keypad","action_user":0,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgPINAdded        = `{"action":"pin_code_added","action_source":1,"action_source_name":"rf","action_user":3,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgPINAddedKeypad  = `{"action":"pin_code_added","action_source":0,"action_source_name":"keypad","action_user":7,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgPINDeleted      = `{"action":"pin_code_deleted","action_source":1,"action_source_name":"rf","action_user":3,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK","users":{"3":{"status":"available"}}}`
	msgMasterChanged   = `{"action":"master_code_changed","action_source":0,"action_source_name":"keypad","action_user":0,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgUsersEnabled    = `{"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK","users":{"3":{"pin_code":"1234","status":"enabled"}}}`
	msgBattery85       = `{"battery":85,"linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgBatteryString84 = `{"battery":"84","linkquality":120,"lock_state":"locked","state":"LOCK"}`
	msgNoBattery       = `{"linkquality":96,"lock_state":"unlocked","state":"UNLOCK"}`
	msgErrorJammed     = `{"action":"error_jammed","battery":87,"linkquality":120,"lock_state":"not_fully_locked","state":"UNLOCK"}` // Yale YAYRD256HA2619
	msgYaleLock        = `{"action":"lock","battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`                     // Yale YAYRD256HA2619

	// Locks whose alarms Zigbee2MQTT caches (Yale Control4 module
	// ZYA-C4-MOD-S: fz.lock + c4_alarm, state LOCKED/UNLOCKED).
	msgLockout         = `{"alarm":"tamper_alarm_keypad_attempts","battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":true}`
	msgLockoutBattery  = `{"alarm":"tamper_alarm_keypad_attempts","battery":86,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":true}`
	msgLockoutWrong    = `{"action":"unlock_failure_invalid_pin_or_id","action_source":0,"action_source_name":"keypad","action_user":0,"alarm":"tamper_alarm_keypad_attempts","battery":86,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":true}`
	msgBatteryReplaced = `{"alarm":"battery_replaced","battery":100,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`
	msgLockout100      = `{"alarm":"tamper_alarm_keypad_attempts","battery":100,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":true}`
	msgReset           = `{"alarm":"lock_reset_to_factory_defaults","battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`
	msgC4Locked        = `{"battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`
	msgC4Jam           = `{"alarm":"deadbolt_jammed","battery":87,"battery_low":false,"linkquality":120,"lock_state":"not_fully_locked","state":"UNLOCKED","tamper":false}`
	msgC4KeypadLock    = `{"action":"keypad_lock","alarm":"deadbolt_jammed","battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`
	msgC4KeypadUnlock  = `{"action":"keypad_unlock","action_user":5,"battery":87,"battery_low":false,"linkquality":120,"lock_state":"unlocked","state":"UNLOCKED","tamper":false}`
	msgC4KeypadNoUser  = `{"action":"keypad_unlock","battery":87,"battery_low":false,"linkquality":120,"lock_state":"unlocked","state":"UNLOCKED","tamper":false}`
	msgC4ModuleLock    = `{"action":"lock_module","battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`
)

// recorded is every recorded state message, for the fuzz seeds.
var recorded = []string{
	msgLocked, msgUnlocked, msgNotFullyLocked, msgLockedDoor, msgDoorJammed, msgKeypadUnlock, msgKeypadNoUser,
	msgRFUnlock, msgRFLock, msgManualLock, msgAutoLock, msgWrongCode, msgPINAdded, msgPINAddedKeypad,
	msgPINDeleted, msgMasterChanged, msgUsersEnabled, msgBattery85, msgBatteryString84, msgNoBattery,
	msgErrorJammed, msgYaleLock, msgLockout, msgLockoutBattery, msgLockoutWrong, msgBatteryReplaced,
	msgLockout100, msgReset, msgC4Locked, msgC4Jam, msgC4KeypadLock, msgC4KeypadUnlock, msgC4KeypadNoUser,
	msgC4ModuleLock,
}

const anySlot = -99 // in a wanted event: do not compare the slot

// step is one message to a device and the events it must produce.
type step struct {
	msg        string
	commanding int // lock/unlock commands waiting when the message arrives
	want       []sparekey.DeviceEvent
}

// ev is a wanted event; Device and At are filled in by runSteps.
func ev(kind sparekey.DeviceEventKind, source string, slot int, state sparekey.LockState, battery int) sparekey.DeviceEvent {
	return sparekey.DeviceEvent{Kind: kind, Source: source, Slot: slot, State: state, Battery: battery}
}

// none is a step that must produce no event.
var none []sparekey.DeviceEvent

const (
	locked   = sparekey.LockStateLocked
	unlocked = sparekey.LockStateUnlocked
	jammed   = sparekey.LockStateJammed
	unknown  = sparekey.LockStateUnknown
)

// runSteps feeds the messages to a new device, one at a time, and checks
// every step's events exactly.
func runSteps(t *testing.T, steps []step) *tracked {
	t.Helper()
	const name = "unit-101-front"
	d := newTracked()
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	for i, s := range steps {
		now = now.Add(time.Second)
		r, err := ParseReport([]byte(s.msg))
		if err != nil {
			t.Fatalf("step %d: ParseReport(%s): %v", i, s.msg, err)
		}
		d.commanding = s.commanding
		got := d.report(name, r, now)
		if !sameEvents(got, s.want, name, now) {
			t.Fatalf("step %d: %s\n got %s\nwant %s", i, s.msg, fmtEvents(got), fmtEvents(withDevice(s.want, name)))
		}
	}
	return d
}

func sameEvents(got, want []sparekey.DeviceEvent, name string, at time.Time) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		w.Device, w.At = name, at
		g := got[i]
		if w.Slot == anySlot {
			w.Slot = g.Slot
		}
		if !g.At.Equal(w.At) {
			return false
		}
		g.At = w.At
		if g != w {
			return false
		}
	}
	return true
}

func withDevice(evs []sparekey.DeviceEvent, name string) []sparekey.DeviceEvent {
	out := append([]sparekey.DeviceEvent(nil), evs...)
	for i := range out {
		out[i].Device = name
	}
	return out
}

func fmtEvents(evs []sparekey.DeviceEvent) string {
	var parts []string
	for _, e := range evs {
		parts = append(parts, fmt.Sprintf("{%s dev=%q src=%q slot=%d state=%s batt=%d}", e.Kind, e.Device, e.Source, e.Slot, e.State, e.Battery))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestReportSequences(t *testing.T) {
	stateLocked := ev(sparekey.EventState, "", -1, locked, 87)
	stateUnlocked := ev(sparekey.EventState, "", -1, unlocked, 87)
	tests := []struct {
		name  string
		steps []step
	}{
		{"first message is the lock's state", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgLocked, want: none},
		}},
		{"first message without a battery", []step{
			{msg: msgNoBattery, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, unlocked, -1)}},
		}},
		{"first message of a jammed lock", []step{
			{msg: msgDoorJammed, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, jammed, 87)}},
		}},
		{"first message of a half-thrown bolt", []step{
			{msg: msgNotFullyLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, jammed, 87)}},
		}},
		{"first message carries a keypad unlock", []step{
			{msg: msgKeypadUnlock, want: []sparekey.DeviceEvent{
				ev(sparekey.EventState, "", -1, unlocked, 87), ev(sparekey.EventKeypadUnlock, "keypad", 3, unlocked, -1)}},
		}},
		{"keypad unlock names the slot", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgKeypadUnlock, want: []sparekey.DeviceEvent{ev(sparekey.EventKeypadUnlock, "keypad", 3, unlocked, -1)}},
			{msg: msgUnlocked, want: none},
		}},
		{"keypad unlock without a user is a plain unlock", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgKeypadNoUser, want: []sparekey.DeviceEvent{ev(sparekey.EventUnlocked, "keypad", -1, unlocked, -1)}},
		}},
		{"rf unlock and lock are remote", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgRFUnlock, want: []sparekey.DeviceEvent{ev(sparekey.EventUnlocked, "remote", -1, unlocked, -1)}},
			{msg: msgRFLock, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "remote", -1, locked, -1)}},
		}},
		{"manual lock", []step{
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{stateUnlocked}},
			{msg: msgManualLock, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "manual", -1, locked, -1)}},
		}},
		{"auto lock without a source name", []step{
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{stateUnlocked}},
			{msg: msgAutoLock, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "auto", -1, locked, -1)}},
		}},
		{"bolt moved with no event", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{ev(sparekey.EventUnlocked, "", -1, unlocked, -1)}},
			{msg: msgLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "", -1, locked, -1)}},
		}},
		{"wrong code", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgWrongCode, want: []sparekey.DeviceEvent{ev(sparekey.EventWrongCode, "keypad", anySlot, locked, -1)}},
			{msg: msgWrongCode, want: []sparekey.DeviceEvent{ev(sparekey.EventWrongCode, "keypad", anySlot, locked, -1)}},
		}},
		{"keypad lockout fires once while the alarm stays cached", []step{
			{msg: msgC4Locked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgLockout, want: []sparekey.DeviceEvent{ev(sparekey.EventKeypadLocked, "keypad", -1, locked, -1)}},
			{msg: msgLockout, want: none},
			{msg: msgLockoutBattery, want: []sparekey.DeviceEvent{ev(sparekey.EventBattery, "", -1, locked, 86)}},
			{msg: msgLockoutWrong, want: []sparekey.DeviceEvent{ev(sparekey.EventWrongCode, "keypad", anySlot, locked, -1)}},
			// Another alarm replaces the cached one: a later lockout is new.
			{msg: msgBatteryReplaced, want: []sparekey.DeviceEvent{ev(sparekey.EventBattery, "", -1, locked, 100)}},
			{msg: msgLockout100, want: []sparekey.DeviceEvent{ev(sparekey.EventKeypadLocked, "keypad", -1, locked, -1)}},
		}},
		{"jam: door_state error_jammed, cleared by door_state closed", []step{
			{msg: msgLockedDoor, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgDoorJammed, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
			{msg: msgDoorJammed, want: none},
			{msg: msgLockedDoor, want: []sparekey.DeviceEvent{ev(sparekey.EventJamCleared, "", -1, locked, -1)}},
			{msg: msgLockedDoor, want: none},
		}},
		{"jam: Yale C4 alarm deadbolt_jammed, cleared by a keypad lock", []step{
			{msg: msgC4Locked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgC4Jam, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
			{msg: msgC4Jam, want: none},
			{msg: msgC4KeypadLock, want: []sparekey.DeviceEvent{
				ev(sparekey.EventJamCleared, "", -1, locked, -1), ev(sparekey.EventLocked, "keypad", -1, locked, -1)}},
		}},
		{"jam: action error_jammed, cleared by a lock", []step{
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{stateUnlocked}},
			{msg: msgErrorJammed, commanding: 1, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
			{msg: msgYaleLock, want: []sparekey.DeviceEvent{
				ev(sparekey.EventJamCleared, "", -1, locked, -1), ev(sparekey.EventLocked, "", -1, locked, -1)}},
		}},
		{"jam: action error_jammed with no command", []step{
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{stateUnlocked}},
			{msg: msgErrorJammed, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
		}},
		{"jam: not_fully_locked while a command is in flight, cleared by lock_state locked", []step{
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{stateUnlocked}},
			{msg: msgNotFullyLocked, commanding: 1, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
			{msg: msgNotFullyLocked, commanding: 1, want: none},
			{msg: msgLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventJamCleared, "", -1, locked, -1)}},
		}},
		{"jam cleared by lock_state unlocked", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgNotFullyLocked, commanding: 1, want: []sparekey.DeviceEvent{ev(sparekey.EventJammed, "", -1, jammed, -1)}},
			{msg: msgUnlocked, want: []sparekey.DeviceEvent{ev(sparekey.EventJamCleared, "", -1, unlocked, -1)}},
		}},
		{"not a jam: bare not_fully_locked with no command and no action", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgNotFullyLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, unknown, -1)}},
			{msg: msgNotFullyLocked, want: none},
			{msg: msgLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "", -1, locked, -1)}},
		}},
		{"battery changes, repeats are quiet", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgLocked, want: none},
			{msg: msgBattery85, want: []sparekey.DeviceEvent{ev(sparekey.EventBattery, "", -1, locked, 85)}},
			{msg: msgBattery85, want: none},
			{msg: msgBatteryString84, want: []sparekey.DeviceEvent{ev(sparekey.EventBattery, "", -1, locked, 84)}},
			{msg: msgBatteryString84, want: none},
		}},
		{"battery with an unlock", []step{
			{msg: msgBattery85, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 85)}},
			{msg: msgRFUnlock, want: []sparekey.DeviceEvent{
				ev(sparekey.EventUnlocked, "remote", -1, unlocked, -1), ev(sparekey.EventBattery, "", -1, unlocked, 87)}},
		}},
		{"programming events are no lock events", []step{
			{msg: msgLocked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgPINAdded, want: none},
			{msg: msgUsersEnabled, want: none},
			{msg: msgPINAddedKeypad, want: none},
			{msg: msgMasterChanged, want: none},
			{msg: msgPINDeleted, want: none},
		}},
		{"factory reset", []step{
			{msg: msgC4Locked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgReset, want: []sparekey.DeviceEvent{ev(sparekey.EventReset, "", -1, locked, -1)}},
			{msg: msgReset, want: none},
		}},
		{"Yale C4 keypad_unlock with action_user", []step{
			{msg: msgC4Locked, want: []sparekey.DeviceEvent{stateLocked}},
			{msg: msgC4KeypadUnlock, want: []sparekey.DeviceEvent{ev(sparekey.EventKeypadUnlock, "keypad", 5, unlocked, -1)}},
			{msg: msgC4ModuleLock, want: []sparekey.DeviceEvent{ev(sparekey.EventLocked, "remote", -1, locked, -1)}},
			{msg: msgC4KeypadNoUser, want: []sparekey.DeviceEvent{ev(sparekey.EventUnlocked, "keypad", -1, unlocked, -1)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.steps) })
	}
}

func TestAvailability(t *testing.T) {
	const name = "unit-101-front"
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	d := newTracked()
	steps := []struct {
		payload string
		want    []sparekey.DeviceEvent
	}{
		{`{"state":"online"}`, []sparekey.DeviceEvent{{Kind: sparekey.EventOnline, Slot: -1, Battery: -1}}},
		{`{"state":"online"}`, nil},
		{`online`, nil},
		{`offline`, []sparekey.DeviceEvent{{Kind: sparekey.EventOffline, Slot: -1, Battery: -1}}},
		{`offline`, nil},
		{`{"state":"offline"}`, nil},
		{`online`, []sparekey.DeviceEvent{{Kind: sparekey.EventOnline, Slot: -1, Battery: -1}}},
		{`{"state":"offline"}`, []sparekey.DeviceEvent{{Kind: sparekey.EventOffline, Slot: -1, Battery: -1}}},
	}
	for i, s := range steps {
		online, err := ParseAvailability([]byte(s.payload))
		if err != nil {
			t.Fatalf("step %d: ParseAvailability(%s): %v", i, s.payload, err)
		}
		if got := d.availability(name, online, now); !sameEvents(got, s.want, name, now) {
			t.Fatalf("step %d: %s: got %s, want %s", i, s.payload, fmtEvents(got), fmtEvents(withDevice(s.want, name)))
		}
	}

	// Once the lock has reported, coming online carries its state and
	// battery.
	r, _ := ParseReport([]byte(msgBattery85))
	d.report(name, r, now)
	got := d.availability(name, true, now)
	want := []sparekey.DeviceEvent{{Kind: sparekey.EventOnline, Slot: -1, Battery: 85, State: locked}}
	if !sameEvents(got, want, name, now) {
		t.Fatalf("online after a report: got %s, want %s", fmtEvents(got), fmtEvents(withDevice(want, name)))
	}
}

// Zigbee2MQTT caches alarm (only action* keys are left out of the cache),
// and answers the /get that OnConnect's refresh sends with the whole
// cached state. The first message after start-up is "where the lock
// stands, nothing having happened" (device.go EventState); an old alarm in
// it must not fire a reset (which reprograms every slot) or a keypad
// lockout, nor make a locked lock read jammed.
func TestFirstReportWithCachedAlarm(t *testing.T) {
	runSteps(t, []step{{msg: msgReset, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 87)}}})
	runSteps(t, []step{{msg: msgLockout, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 87)}}})
	runSteps(t, []step{{
		msg:  `{"alarm":"deadbolt_jammed","battery":87,"battery_low":false,"linkquality":120,"lock_state":"locked","state":"LOCKED","tamper":false}`,
		want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 87)},
	}})
}

// A real lock sends its operation event (a ZCL command) and its lockState
// attribute report as two Zigbee messages, so Zigbee2MQTT publishes two
// MQTT messages: the event's carries the cached, not yet updated
// lock_state. One keypad unlock must stay one unlock.
func TestOperationEventBeforeAttributeReport(t *testing.T) {
	runSteps(t, []step{
		{msg: msgLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 87)}},
		{ // the operation event, with the cached lock_state still locked
			msg:  `{"action":"unlock","action_source":0,"action_source_name":"keypad","action_user":3,"battery":87,"linkquality":120,"lock_state":"locked","state":"LOCK"}`,
			want: []sparekey.DeviceEvent{ev(sparekey.EventKeypadUnlock, "keypad", 3, unlocked, -1)},
		},
		{msg: msgUnlocked, want: none}, // the attribute report
	})
}

// device.go documents Slot as "keypad_unlock: the slot whose code was
// used; -1 otherwise". Zigbee2MQTT always sends action_user (the
// operation event's user id, 0 for an unknown code), and the web page
// shows any Slot >= 0.
func TestWrongCodeHasNoSlot(t *testing.T) {
	runSteps(t, []step{
		{msg: msgLocked, want: []sparekey.DeviceEvent{ev(sparekey.EventState, "", -1, locked, 87)}},
		{msg: msgWrongCode, want: []sparekey.DeviceEvent{ev(sparekey.EventWrongCode, "keypad", -1, locked, -1)}},
	})
}
