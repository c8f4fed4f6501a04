package sim

import (
	"time"

	"sparekey"
)

// Keypad lockout: after MaxWrongCodes consecutive wrong codes the keypad
// ignores entries for LockoutDuration of the fleet's clock.
const (
	MaxWrongCodes   = 5
	LockoutDuration = 60 * time.Second
)

// Report sources the simulator sets on events.
const (
	SourceKeypad = "keypad"
	SourceRemote = "remote"
)

// virtualLock is the behaviour of one keypad smart lock, with no transport:
// every method takes the current time, changes the lock and returns the
// reports the lock sends to the hub. The in-process Fleet delivers them to a
// handler; an MQTT simulator can publish the same reports in Zigbee2MQTT's
// format. A virtualLock is not safe for concurrent use; its owner holds a
// mutex around every call.
type virtualLock struct {
	device  string
	codes   []string           // codes[slot]; "" is an empty slot
	bolt    sparekey.LockState // locked or unlocked; kept while jammed so a cleared jam restores it
	jammed  bool
	online  bool
	battery int

	wrongCodes    int       // consecutive wrong codes at the keypad
	disabledUntil time.Time // the keypad ignores entries before this time
}

func newVirtualLock(device string, slotCount int) *virtualLock {
	return &virtualLock{
		device:  device,
		codes:   make([]string, max(slotCount, 0)),
		bolt:    sparekey.LockStateLocked,
		online:  true,
		battery: 100,
	}
}

// state is the bolt as the lock reports it.
func (l *virtualLock) state() sparekey.LockState {
	if l.jammed {
		return sparekey.LockStateJammed
	}
	return l.bolt
}

// report builds an event of the lock's current state. The lock's radio cannot
// reach the hub while offline, so the report is lost then: report returns nil
// and the caller appends nothing.
func (l *virtualLock) report(now time.Time, kind sparekey.DeviceEventKind, source string) []sparekey.DeviceEvent {
	if !l.online {
		return nil
	}
	return []sparekey.DeviceEvent{l.event(now, kind, source)}
}

func (l *virtualLock) event(now time.Time, kind sparekey.DeviceEventKind, source string) sparekey.DeviceEvent {
	return sparekey.DeviceEvent{
		Device:  l.device,
		Kind:    kind,
		At:      now,
		Slot:    -1,
		Source:  source,
		State:   l.state(),
		Battery: -1,
	}
}

// checkSlot rejects a slot the keypad does not have.
func (l *virtualLock) checkSlot(slot int) error {
	if slot < 0 || slot >= len(l.codes) {
		return sparekey.Errorf(sparekey.EINVALID, "lock %s has no slot %d (it has %d)", l.device, slot, len(l.codes))
	}
	return nil
}

// checkReachable rejects a command the hub cannot deliver.
func (l *virtualLock) checkReachable() error {
	if !l.online {
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline", l.device)
	}
	return nil
}

// setPIN programs code into slot. Programming works while jammed: only the
// bolt is stuck, not the radio or the keypad's memory.
func (l *virtualLock) setPIN(slot int, code string) error {
	if err := l.checkSlot(slot); err != nil {
		return err
	}
	if !validCode(code) {
		// Never echo the code: error messages may reach logs and callers.
		return sparekey.Errorf(sparekey.EINVALID, "a code for lock %s must be digits only", l.device)
	}
	if err := l.checkReachable(); err != nil {
		return err
	}
	l.codes[slot] = code
	return nil
}

func validCode(code string) bool {
	if code == "" {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clearPIN empties slot.
func (l *virtualLock) clearPIN(slot int) error {
	if err := l.checkSlot(slot); err != nil {
		return err
	}
	if err := l.checkReachable(); err != nil {
		return err
	}
	l.codes[slot] = ""
	return nil
}

// command drives the bolt on the hub's request.
func (l *virtualLock) command(now time.Time, to sparekey.LockState) ([]sparekey.DeviceEvent, error) {
	if err := l.checkReachable(); err != nil {
		return nil, err
	}
	if l.jammed {
		return nil, sparekey.Errorf(sparekey.ELOCKJAMMED, "lock %s is jammed", l.device)
	}
	l.bolt = to
	kind := sparekey.EventLocked
	if to == sparekey.LockStateUnlocked {
		kind = sparekey.EventUnlocked
	}
	return l.report(now, kind, SourceRemote), nil
}

// keypad is a person typing code on the keypad. It works whether or not the
// hub can reach the lock; only the reports are lost while offline.
func (l *virtualLock) keypad(now time.Time, code string) (KeypadResult, []sparekey.DeviceEvent) {
	if now.Before(l.disabledUntil) {
		return KeypadResult{Result: KeypadDisabled}, nil
	}
	if l.jammed {
		// A jammed lock flashes its X on every attempt and reports the jam
		// again; the code is not even checked, so it does not count as wrong.
		res := KeypadResult{Result: KeypadJammed, Pattern: PatternXOdd}
		return res, l.report(now, sparekey.EventJammed, SourceKeypad)
	}
	if slot := l.match(code); slot >= 0 {
		l.wrongCodes = 0
		l.bolt = sparekey.LockStateUnlocked
		events := l.report(now, sparekey.EventKeypadUnlock, SourceKeypad)
		for i := range events {
			events[i].Slot = slot
		}
		return KeypadResult{Result: KeypadUnlocked, Slot: slot}, events
	}
	l.wrongCodes++
	events := l.report(now, sparekey.EventWrongCode, SourceKeypad)
	if l.wrongCodes >= MaxWrongCodes {
		l.wrongCodes = 0
		l.disabledUntil = now.Add(LockoutDuration)
		events = append(events, l.report(now, sparekey.EventKeypadLocked, SourceKeypad)...)
	}
	return KeypadResult{Result: KeypadRejected}, events
}

// match returns the lowest slot holding code, or -1.
func (l *virtualLock) match(code string) int {
	if code == "" {
		return -1
	}
	for slot, c := range l.codes {
		if c == code {
			return slot
		}
	}
	return -1
}

// setState applies a change made to the lock itself (by the world, not the
// hub). A lock coming online does so first, so the other changes are
// reported; a lock going offline does so last, for the same reason. Jam and
// availability report only when they change; a battery value always reports.
func (l *virtualLock) setState(now time.Time, c StateChange) ([]sparekey.DeviceEvent, error) {
	if c.Battery != nil && (*c.Battery < 0 || *c.Battery > 100) {
		return nil, sparekey.Errorf(sparekey.EINVALID, "battery must be 0 to 100, not %d", *c.Battery)
	}
	var events []sparekey.DeviceEvent
	if c.Online != nil && *c.Online && !l.online {
		l.online = true
		e := l.event(now, sparekey.EventOnline, "")
		e.Battery = l.battery
		events = append(events, e)
	}
	if c.Jammed != nil && *c.Jammed != l.jammed {
		l.jammed = *c.Jammed
		kind := sparekey.EventJamCleared
		if l.jammed {
			kind = sparekey.EventJammed
		}
		events = append(events, l.report(now, kind, "")...)
	}
	if c.Battery != nil {
		l.battery = *c.Battery
		for _, e := range l.report(now, sparekey.EventBattery, "") {
			e.Battery = l.battery
			events = append(events, e)
		}
	}
	if c.Online != nil && !*c.Online && l.online {
		// The one report of an unreachable lock: in real life it is the
		// coordinator's availability check that says the lock went away.
		events = append(events, l.event(now, sparekey.EventOffline, ""))
		l.online = false
	}
	return events, nil
}

// status is a snapshot at now, without codes.
func (l *virtualLock) status(now time.Time) Status {
	s := Status{
		Device:    l.device,
		State:     l.state(),
		Online:    l.online,
		Battery:   l.battery,
		Jammed:    l.jammed,
		SlotCount: len(l.codes),
		Slots:     []int{},
	}
	if now.Before(l.disabledUntil) {
		s.KeypadDisabledUntil = l.disabledUntil
	}
	for slot, c := range l.codes {
		if c != "" {
			s.Slots = append(s.Slots, slot)
		}
	}
	return s
}

// programmed returns a copy of the codes on the lock by slot.
func (l *virtualLock) programmed() map[int]string {
	m := make(map[int]string)
	for slot, c := range l.codes {
		if c != "" {
			m[slot] = c
		}
	}
	return m
}

// reset is a factory reset: every code is gone, and the lock says so.
func (l *virtualLock) reset(now time.Time) []sparekey.DeviceEvent {
	for i := range l.codes {
		l.codes[i] = ""
	}
	l.wrongCodes, l.disabledUntil = 0, time.Time{}
	return l.report(now, sparekey.EventReset, "")
}
