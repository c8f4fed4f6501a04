package z2m

import (
	"strings"
	"time"

	"sparekey"
)

// tracked is what the adapter remembers of one lock between its messages,
// to turn Zigbee2MQTT's whole-state messages into the events that happened.
// It is guarded by the adapter's mutex.
type tracked struct {
	seen      bool   // a state message arrived since the adapter started
	lockState string // locked, unlocked, not_fully_locked
	doorState string
	alarm     string // the alarm of the last message, "" when it had none
	battery   int    // -1 until reported
	jammed    bool

	availKnown bool
	online     bool
	byBridge   bool // reported offline because Zigbee2MQTT itself went offline

	// users is Zigbee2MQTT's cached users map as its messages show it.
	users         map[int]User
	exposesPIN    bool // users entries carry the PIN (device option expose_pin)
	programEvents bool // the lock reports pin_code_added/deleted events

	commanding int // lock and unlock commands waiting for the lock's answer
}

func newTracked() *tracked {
	return &tracked{battery: -1, users: map[int]User{}}
}

// state is the lock's state in Sparekey's terms.
func (d *tracked) state() sparekey.LockState {
	switch {
	case d.jammed:
		return sparekey.LockStateJammed
	case d.lockState == "locked":
		return sparekey.LockStateLocked
	case d.lockState == "unlocked":
		return sparekey.LockStateUnlocked
	}
	return sparekey.LockStateUnknown
}

// Actions that move the bolt, by what they did.
var (
	lockActions = map[string]string{ // action → source when action_source_name is absent
		"lock": "", "keypad_lock": "keypad", "one_touch_lock": "manual", "auto_lock": "auto",
		"schedule_lock": "schedule", "key_lock": "manual", "manual_lock": "manual",
		"manual_lock_key_or_thumbturn": "manual", "manual_lock_touch": "manual", "lock_module": "remote",
	}
	unlockActions = map[string]string{
		"unlock": "", "keypad_unlock": "keypad", "key_unlock": "manual", "manual_unlock": "manual",
		"schedule_unlock": "schedule", "manual_unlock_key_or_thumbturn": "manual", "unlock_module": "remote",
	}
	wrongCodeActions = map[string]bool{
		"unlock_failure_invalid_pin_or_id": true, "lock_failure_invalid_pin_or_id": true,
		"unlock_failure_invalid_schedule": true, "lock_failure_invalid_schedule": true,
	}
	sources = map[string]string{"keypad": "keypad", "rf": "remote", "manual": "manual", "rfid": "rfid", "fingerprint": "fingerprint"}
)

// report applies one state message and returns the events it means, in the
// order they happened. commanding says a lock or unlock command is waiting,
// which makes a not_fully_locked bolt a jam rather than a half-turned one.
func (d *tracked) report(name string, r *Report, now time.Time) []sparekey.DeviceEvent {
	prevLock, prevDoor, prevAlarm, prevBattery, first := d.lockState, d.doorState, d.alarm, d.battery, !d.seen
	d.seen = true
	switch {
	case r.LockState != "":
		d.lockState = r.LockState
	case r.State == "LOCK":
		d.lockState = "locked"
	case r.State == "UNLOCK" && d.lockState != "not_fully_locked":
		d.lockState = "unlocked"
	}
	if r.DoorState != "" {
		d.doorState = r.DoorState
	}
	if r.Battery != nil {
		d.battery = *r.Battery
	}
	d.alarm = r.Alarm
	for slot, u := range r.Users {
		d.users[slot] = u
		if u.PIN != nil && *u.PIN != "" {
			d.exposesPIN = true
		}
	}
	if strings.HasPrefix(r.Action, "pin_code_") {
		d.programEvents = true
	}
	lockChanged := d.lockState != prevLock
	doorChanged := d.doorState != prevDoor
	// The first message after start-up repeats Zigbee2MQTT's cache: its
	// alarm is a baseline, not news (a reset would otherwise reprogram every
	// slot at each restart).
	alarmNew := !first && r.Alarm != "" && r.Alarm != prevAlarm

	var out []sparekey.DeviceEvent
	add := func(kind sparekey.DeviceEventKind, source string) *sparekey.DeviceEvent {
		out = append(out, sparekey.DeviceEvent{Device: name, Kind: kind, At: now, Slot: -1, Source: source, Battery: -1})
		return &out[len(out)-1]
	}

	jam := r.Action == "error_jammed" ||
		(alarmNew && r.Alarm == "deadbolt_jammed") ||
		(doorChanged && d.doorState == "error_jammed") ||
		(lockChanged && d.lockState == "not_fully_locked" && (d.commanding > 0 || r.Action != "")) ||
		(first && (d.doorState == "error_jammed" || d.lockState == "not_fully_locked"))

	source := sources[r.ActionSource]
	if source == "" {
		source = r.ActionSource
	}
	_, locks := lockActions[r.Action]
	_, unlocks := unlockActions[r.Action]
	moved := (locks || unlocks) && !jam
	// Locks often send the operation event before the attribute report, so
	// the event's message still has the old lock_state: the action tells
	// where the bolt is, and the report that follows is then no news.
	if moved && unlocks && d.lockState != "unlocked" {
		d.lockState, lockChanged = "unlocked", true
	} else if moved && locks && d.lockState != "locked" {
		d.lockState, lockChanged = "locked", true
	}

	cleared := false
	if first {
		d.jammed = jam
		e := add(sparekey.EventState, "")
		e.Battery = d.battery
	} else {
		switch {
		case jam:
			d.jammed = true
			add(sparekey.EventJammed, source)
		case d.jammed && ((doorChanged && d.doorState != "error_jammed") ||
			(lockChanged && (d.lockState == "locked" || d.lockState == "unlocked")) || moved):
			d.jammed, cleared = false, true
			add(sparekey.EventJamCleared, source)
		}
	}

	switch {
	case moved && unlocks:
		if source == "" {
			source = unlockActions[r.Action]
		}
		if source == "keypad" && r.ActionUser != nil && *r.ActionUser >= 0 {
			add(sparekey.EventKeypadUnlock, source).Slot = *r.ActionUser
		} else {
			add(sparekey.EventUnlocked, source)
		}
	case moved && locks:
		if source == "" {
			source = lockActions[r.Action]
		}
		add(sparekey.EventLocked, source)
	case wrongCodeActions[r.Action]:
		if source == "" {
			source = "keypad"
		}
		add(sparekey.EventWrongCode, source) // action_user is meaningless for a code no slot holds
	case !first && !jam && !d.jammed && !cleared && lockChanged:
		// The bolt moved with no event saying how: a thumb turn on a lock
		// that only reports its attribute, or a state read after a gap.
		switch d.lockState {
		case "locked":
			add(sparekey.EventLocked, "")
		case "unlocked":
			add(sparekey.EventUnlocked, "")
		default:
			add(sparekey.EventState, "")
		}
	}

	if alarmNew {
		switch r.Alarm {
		case "tamper_alarm_keypad_attempts", "tamper_alarm_wrong_code_entry_limit":
			add(sparekey.EventKeypadLocked, "keypad")
		case "lock_reset_to_factory_defaults":
			add(sparekey.EventReset, "")
		}
	}
	if !first && r.Battery != nil && d.battery != prevBattery {
		add(sparekey.EventBattery, "").Battery = d.battery
	}
	for i := range out {
		out[i].State = d.state()
	}
	return out
}

// availability applies an availability message and returns the online or
// offline event when it changed (or is the first one).
func (d *tracked) availability(name string, online bool, now time.Time) []sparekey.DeviceEvent {
	if d.availKnown && d.online == online {
		return nil
	}
	d.availKnown, d.online = true, online
	e := sparekey.DeviceEvent{Device: name, Kind: sparekey.EventOffline, At: now, Slot: -1, Battery: -1}
	if online {
		e.Kind = sparekey.EventOnline
		e.Battery = d.battery
		if d.seen {
			e.State = d.state()
		}
	}
	return []sparekey.DeviceEvent{e}
}
