package zwave

import (
	"encoding/json"
	"time"

	"sparekey"
)

// lowBattery is the battery percent reported for a lock that says only
// that its battery is low: under the console's 20%.
const lowBattery = 10

// Offline reasons, in DeviceEvent.Source of an EventOffline.
const (
	ReasonHub  = "hub"  // the Z-Wave JS server cannot be reached
	ReasonNode = "node" // zwave-js marked the node dead: it did not answer
)

// lockNode is what a hub's translator remembers of one lock between its
// reports: enough to tell a change from a repeat.
type lockNode struct {
	mode    int // Door Lock currentMode; -1 unknown
	jammed  bool
	battery int // percent; -1 unknown
	online  bool
}

// translator turns one hub's messages into sparekey.DeviceEvents. It knows
// which nodes are locks (they have Door Lock or User Code values) and
// ignores the others. It is not safe for concurrent use: the hub's reader
// owns it.
type translator struct {
	hub   string
	nodes map[int]*lockNode
}

func newTranslator(hub string) *translator {
	return &translator{hub: hub, nodes: map[int]*lockNode{}}
}

// report is one report of a lock as a waiting command judges it.
type report struct {
	value *valueArgs // a value the lock reported
	dead  bool       // the node was marked dead
}

func (t *translator) device(nodeID int) string { return Address(t.hub, nodeID) }

func (t *translator) event(nodeID int, kind sparekey.DeviceEventKind, at time.Time) sparekey.DeviceEvent {
	return sparekey.DeviceEvent{Device: t.device(nodeID), Kind: kind, At: at, Slot: -1, Battery: -1}
}

// baseline reads start_listening's state dump: every lock's state as the
// driver knows it, as one EventState (with its battery) and an EventOnline
// or EventOffline each. Locks missing from the dump are left alone.
func (t *translator) baseline(nodes []node, now time.Time) map[string][]sparekey.DeviceEvent {
	out := map[string][]sparekey.DeviceEvent{}
	for _, n := range nodes {
		if !isLock(n.Values) {
			continue
		}
		l := &lockNode{mode: -1, battery: -1, online: n.Status != nodeDead}
		t.nodes[n.NodeID] = l
		for _, v := range n.Values {
			switch {
			case v.CommandClass == ccDoorLock && v.Property == "currentMode":
				if m, ok := number(v.Value); ok {
					l.mode = m
				}
			case v.CommandClass == ccNotification && v.Property == "Access Control" && v.PropertyKey == "Lock state":
				m, _ := number(v.Value)
				l.jammed = m == acJammed
			case v.CommandClass == ccBattery && v.Property == "level":
				if b, ok := number(v.Value); ok {
					l.battery = b
				}
			}
		}
		st := t.event(n.NodeID, sparekey.EventState, now)
		st.State = l.state()
		st.Battery = l.battery
		avail := t.event(n.NodeID, sparekey.EventOnline, now)
		if !l.online {
			avail.Kind, avail.Source = sparekey.EventOffline, ReasonNode
		}
		out[t.device(n.NodeID)] = []sparekey.DeviceEvent{avail, st}
	}
	return out
}

// isLock reports whether a node's values show a lock: Door Lock or User
// Code.
func isLock(values []valueArgs) bool {
	for _, v := range values {
		if v.CommandClass == ccDoorLock || v.CommandClass == ccUserCode {
			return true
		}
	}
	return false
}

func (l *lockNode) state() sparekey.LockState {
	switch {
	case l.jammed || l.mode == modeUnknown:
		return sparekey.LockStateJammed
	case l.mode == modeSecured:
		return sparekey.LockStateLocked
	case l.mode == modeUnsecured:
		return sparekey.LockStateUnlocked
	}
	return sparekey.LockStateUnknown
}

// hubDown is every known lock going offline at once: its hub cannot be
// reached.
func (t *translator) hubDown(now time.Time) map[string][]sparekey.DeviceEvent {
	out := map[string][]sparekey.DeviceEvent{}
	for id, l := range t.nodes {
		if !l.online {
			continue
		}
		l.online = false
		e := t.event(id, sparekey.EventOffline, now)
		e.Source = ReasonHub
		out[t.device(id)] = []sparekey.DeviceEvent{e}
	}
	return out
}

// translate turns one node event into the lock's events and the report a
// waiting command judges. ok is false for events of nodes that are not
// locks and events Sparekey does not read.
func (t *translator) translate(ev *event, now time.Time) (device string, events []sparekey.DeviceEvent, r report, ok bool) {
	if ev == nil || ev.Source != "node" || ev.NodeID <= 0 {
		return "", nil, report{}, false
	}
	l := t.nodes[ev.NodeID]
	switch ev.Event {
	case "value updated", "value notification", "value added":
		var v valueArgs
		if json.Unmarshal(ev.Args, &v) != nil {
			return "", nil, report{}, false
		}
		if v.NewValue == nil && ev.Event == "value added" {
			v.NewValue = v.Value
		}
		if l == nil {
			if v.CommandClass != ccDoorLock && v.CommandClass != ccUserCode {
				return "", nil, report{}, false
			}
			l = &lockNode{mode: -1, battery: -1, online: true}
			t.nodes[ev.NodeID] = l
		}
		return t.device(ev.NodeID), t.value(ev.NodeID, l, v, now), report{value: &v}, true
	case "notification":
		if l == nil || ev.CCID != ccNotification {
			return "", nil, report{}, false
		}
		var n notificationArgs
		if json.Unmarshal(ev.Args, &n) != nil {
			return "", nil, report{}, false
		}
		return t.device(ev.NodeID), t.notification(ev.NodeID, l, n, now), report{}, true
	case "dead", "alive":
		if l == nil {
			return "", nil, report{}, false
		}
		online := ev.Event == "alive"
		if l.online == online {
			return t.device(ev.NodeID), nil, report{dead: !online}, true
		}
		l.online = online
		e := t.event(ev.NodeID, sparekey.EventOnline, now)
		if !online {
			e.Kind, e.Source = sparekey.EventOffline, ReasonNode
		}
		return t.device(ev.NodeID), []sparekey.DeviceEvent{e}, report{dead: !online}, true
	}
	return "", nil, report{}, false
}

// value turns a value the lock reported into events: the bolt's mode, the
// Access Control states (jammed, keypad disabled), the battery level. Codes
// (User Code values) confirm commands and make no event.
func (t *translator) value(id int, l *lockNode, v valueArgs, now time.Time) []sparekey.DeviceEvent {
	n, isNumber := number(v.NewValue)
	switch {
	case v.CommandClass == ccDoorLock && v.Property == "currentMode" && isNumber:
		if n == l.mode {
			return nil
		}
		l.mode = n
		e := t.event(id, sparekey.EventState, now)
		e.State = l.state()
		e.Battery = l.battery
		return []sparekey.DeviceEvent{e}
	case v.CommandClass == ccNotification && v.Property == "Access Control" && v.PropertyKey == "Lock state" && isNumber:
		switch {
		case n == acJammed && !l.jammed:
			l.jammed = true
			e := t.event(id, sparekey.EventJammed, now)
			e.State = sparekey.LockStateJammed
			return []sparekey.DeviceEvent{e}
		case n != acJammed && l.jammed:
			l.jammed = false
			e := t.event(id, sparekey.EventJamCleared, now)
			e.State = l.state()
			return []sparekey.DeviceEvent{e}
		}
	case v.CommandClass == ccNotification && v.Property == "Access Control" && v.PropertyKey == "Keypad state" && isNumber:
		if n == acKeypadDisabled {
			e := t.event(id, sparekey.EventKeypadLocked, now)
			e.Source = "keypad"
			return []sparekey.DeviceEvent{e}
		}
	case v.CommandClass == ccBattery && v.Property == "rechargeOrReplace" && isNumber && n > 0,
		v.CommandClass == ccNotification && v.Property == "Power Management" && v.PropertyKey == "Battery maintenance status" &&
			isNumber && (n == pmReplaceSoon || n == pmReplaceNow):
		// The lock says only "replace the battery" (Battery v2's
		// rechargeOrReplace, soon or now, or a Power Management
		// notification; zwave-js drops a v1 report of 0xFF, "low"): it
		// counts as lowBattery unless the level says less.
		if l.battery >= 0 && l.battery <= lowBattery {
			return nil
		}
		l.battery = lowBattery
		e := t.event(id, sparekey.EventBattery, now)
		e.Battery = lowBattery
		return []sparekey.DeviceEvent{e}
	case v.CommandClass == ccBattery && v.Property == "level" && isNumber:
		if n == l.battery || n < 0 || n > 100 {
			return nil
		}
		l.battery = n
		e := t.event(id, sparekey.EventBattery, now)
		e.Battery = n
		return []sparekey.DeviceEvent{e}
	}
	return nil
}

// notification turns a Notification CC event into the lock's event: who
// opened it and how, wrong codes, a jam.
func (t *translator) notification(id int, l *lockNode, n notificationArgs, now time.Time) []sparekey.DeviceEvent {
	e := t.event(id, "", now)
	switch {
	case n.Type == notifyAccessControl && n.Event == acKeypadUnlock:
		e.Kind, e.Source, e.State = sparekey.EventKeypadUnlock, "keypad", sparekey.LockStateUnlocked
		if u := n.userID(); u > 0 {
			e.Slot = u - 1 // Sparekey's slots are 0-based, User Code ids 1-based
		}
	case n.Type == notifyAccessControl && n.Event == acKeypadLock:
		e.Kind, e.Source, e.State = sparekey.EventLocked, "keypad", sparekey.LockStateLocked
	case n.Type == notifyAccessControl && (n.Event == acManualLock || n.Event == acRFLock || n.Event == acAutoLock):
		e.Kind, e.State = sparekey.EventLocked, sparekey.LockStateLocked
		e.Source = map[int]string{acManualLock: "manual", acRFLock: "remote", acAutoLock: "auto"}[n.Event]
	case n.Type == notifyAccessControl && (n.Event == acManualUnlock || n.Event == acRFUnlock):
		e.Kind, e.State = sparekey.EventUnlocked, sparekey.LockStateUnlocked
		e.Source = map[int]string{acManualUnlock: "manual", acRFUnlock: "remote"}[n.Event]
	case n.Type == notifyAccessControl && (n.Event == acCodeLimit || n.Event == acInvalidCode),
		n.Type == notifyHomeSecurity && n.Event == hsInvalidCode:
		e.Kind, e.Source = sparekey.EventWrongCode, "keypad"
	case n.Type == notifyAccessControl && n.Event == acKeypadDisabled:
		e.Kind, e.Source = sparekey.EventKeypadLocked, "keypad"
	case n.Type == notifyAccessControl && n.Event == acJammed:
		if l.jammed {
			return nil
		}
		l.jammed = true
		e.Kind, e.State = sparekey.EventJammed, sparekey.LockStateJammed
	default:
		return nil
	}
	// The bolt's own report (currentMode) follows; noting the mode now
	// keeps it from making a second event.
	if e.State != "" && e.State != sparekey.LockStateJammed {
		if e.State == sparekey.LockStateLocked {
			l.mode = modeSecured
		} else {
			l.mode = modeUnsecured
		}
	}
	return []sparekey.DeviceEvent{e}
}

// codesUnread reports whether a lock in the state dump has User Code slots
// whose status zwave-js never read: the mark of a lock interviewed with
// interview.queryAllUserCodes off, which may have cleared its codes (see
// docs/zwave-js.md). With the setting on, every slot has a status.
func codesUnread(n node) bool {
	for _, v := range n.Values {
		if v.CommandClass == ccUserCode && v.Property == "userIdStatus" && v.PropertyKey != "" && v.Value == nil {
			return true
		}
	}
	return false
}
