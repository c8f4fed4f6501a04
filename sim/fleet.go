// Package sim is an in-process fleet of virtual keypad smart locks that
// behave like real ones: codes in numbered slots, keypad entry, a wrong-code
// lockout, jams, battery and going offline. The fleet is a
// sparekey.LockDriver, and reports what its locks do as sparekey.DeviceEvents.
//
// Events are delivered synchronously, with no goroutine of the fleet's own,
// so a Fleet needs no Start or Stop. See Subscribe for the guarantees.
package sim

import (
	"context"
	"slices"
	"sync"
	"time"

	"sparekey"
)

var _ sparekey.LockDriver = (*Fleet)(nil)

// Fleet is a set of virtual locks by device name. It is safe for concurrent
// use.
type Fleet struct {
	clock sparekey.Clock

	mu      sync.RWMutex
	locks   map[string]*fleetLock
	handler func(sparekey.DeviceEvent)
}

// fleetLock is one lock of the fleet with its reports waiting for delivery.
type fleetLock struct {
	mu         sync.Mutex
	lock       *virtualLock
	pending    []sparekey.DeviceEvent // reports not yet handed to the handler, oldest first
	delivering bool                   // a goroutine is draining pending
}

// StateChange is a change made to a lock by the world rather than by the
// hub: a jam, a lost connection, a draining battery. Nil fields stay as they
// are.
type StateChange struct {
	Jammed  *bool
	Online  *bool
	Battery *int // percent, 0 to 100
}

// Status is a snapshot of a virtual lock. It holds no codes.
type Status struct {
	Device              string
	State               sparekey.LockState // locked, unlocked or jammed
	Online              bool
	Battery             int
	Jammed              bool
	KeypadDisabledUntil time.Time // zero unless the keypad is disabled at the snapshot's time
	SlotCount           int
	Slots               []int // programmed slots, ascending; never nil
}

// New returns an empty fleet whose locks and reports run on clock.
func New(clock sparekey.Clock) *Fleet {
	return &Fleet{clock: clock, locks: make(map[string]*fleetLock)}
}

// Add adds a lock with slotCount code slots (0..slotCount-1): online,
// locked, battery 100, not jammed, every slot empty. Adding a device that is
// already in the fleet changes nothing and reports false.
func (f *Fleet) Add(device string, slotCount int) (added bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.locks[device]; !ok {
		f.locks[device] = &fleetLock{lock: newVirtualLock(device, slotCount)}
		return true
	}
	return false
}

// Devices returns the device names of the fleet, sorted.
func (f *Fleet) Devices() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	names := make([]string, 0, len(f.locks))
	for name := range f.locks {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Subscribe sets the function that receives every report of the fleet's
// locks, replacing the one set before; reports made while none is set are
// dropped.
//
// fn is called synchronously, never while the fleet holds a lock's mutex, so
// it may call the fleet back. The reports of one lock reach fn in the order
// the lock made them, one at a time; reports of different locks may reach fn
// concurrently. Normally fn has seen a call's reports when the call returns.
// The exception keeps the order: when another goroutine is already handing
// that lock's reports to fn (or the call is made from inside fn), that
// goroutine delivers them, right after the ones before.
func (f *Fleet) Subscribe(fn func(sparekey.DeviceEvent)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = fn
}

// SetPIN programs code (digits only) into the 0-based slot.
func (f *Fleet) SetPIN(ctx context.Context, device string, slot int, code string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.do(device, func(l *virtualLock, _ time.Time) ([]sparekey.DeviceEvent, error) {
		return nil, l.setPIN(slot, code)
	})
}

// ClearPIN empties the 0-based slot.
func (f *Fleet) ClearPIN(ctx context.Context, device string, slot int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.do(device, func(l *virtualLock, _ time.Time) ([]sparekey.DeviceEvent, error) {
		return nil, l.clearPIN(slot)
	})
}

// Lock throws the bolt and reports EventLocked from source "remote".
func (f *Fleet) Lock(ctx context.Context, device string) error {
	return f.command(ctx, device, sparekey.LockStateLocked)
}

// Unlock draws the bolt and reports EventUnlocked from source "remote".
func (f *Fleet) Unlock(ctx context.Context, device string) error {
	return f.command(ctx, device, sparekey.LockStateUnlocked)
}

func (f *Fleet) command(ctx context.Context, device string, to sparekey.LockState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.do(device, func(l *virtualLock, now time.Time) ([]sparekey.DeviceEvent, error) {
		return l.command(now, to)
	})
}

// Keypad is a person typing code on the lock's keypad, and returns what they
// see. In order: while the keypad is disabled it answers keypad_disabled;
// while jammed it answers jammed with the x-odd pattern and reports the jam
// again; a code in a slot opens the door; anything else is rejected, and
// MaxWrongCodes rejections in a row disable the keypad for LockoutDuration.
// The keypad works while the lock is offline, with the codes already on it.
func (f *Fleet) Keypad(device, code string) (KeypadResult, error) {
	var res KeypadResult
	err := f.do(device, func(l *virtualLock, now time.Time) ([]sparekey.DeviceEvent, error) {
		var events []sparekey.DeviceEvent
		res, events = l.keypad(now, code)
		return events, nil
	})
	return res, err
}

// SetState changes the lock as the world would and reports it: EventJammed
// or EventJamCleared (the bolt returns to where it was), EventBattery,
// EventOnline with the current state and battery, EventOffline. After
// EventOffline the lock's reports are lost until it is online again. A
// battery outside 0..100 is EINVALID and changes nothing.
func (f *Fleet) SetState(device string, change StateChange) error {
	return f.do(device, func(l *virtualLock, now time.Time) ([]sparekey.DeviceEvent, error) {
		return l.setState(now, change)
	})
}

// Reset wipes every code from the lock, as a factory reset or a replaced
// lock would, and reports EventReset so the hub programs it anew.
func (f *Fleet) Reset(device string) error {
	return f.do(device, func(l *virtualLock, now time.Time) ([]sparekey.DeviceEvent, error) {
		return l.reset(now), nil
	})
}

// Status returns a snapshot of the lock.
func (f *Fleet) Status(device string) (Status, error) {
	var s Status
	err := f.do(device, func(l *virtualLock, now time.Time) ([]sparekey.DeviceEvent, error) {
		s = l.status(now)
		return nil, nil
	})
	return s, err
}

// Programmed returns the codes on the lock by slot, for tests and the demo's
// checks only: nothing that serves users may call it. It returns nil for a
// device that is not in the fleet.
func (f *Fleet) Programmed(device string) map[int]string {
	var codes map[int]string
	if err := f.do(device, func(l *virtualLock, _ time.Time) ([]sparekey.DeviceEvent, error) {
		codes = l.programmed()
		return nil, nil
	}); err != nil {
		return nil
	}
	return codes
}

// do runs op on the device's lock under its mutex, then delivers the reports
// op made.
func (f *Fleet) do(device string, op func(*virtualLock, time.Time) ([]sparekey.DeviceEvent, error)) error {
	f.mu.RLock()
	fl, ok := f.locks[device]
	f.mu.RUnlock()
	if !ok {
		return sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", device)
	}
	fl.mu.Lock()
	events, err := op(fl.lock, f.clock.Now())
	fl.pending = append(fl.pending, events...)
	fl.mu.Unlock()
	if len(events) > 0 {
		f.deliver(fl)
	}
	return err
}

// deliver hands the lock's pending reports to the handler, oldest first,
// unless another goroutine already does: that one will find them queued.
// Only one goroutine delivers a lock's reports at a time, which keeps them in
// order without holding the lock's mutex while the handler runs.
func (f *Fleet) deliver(fl *fleetLock) {
	fl.mu.Lock()
	if fl.delivering {
		fl.mu.Unlock()
		return
	}
	fl.delivering = true
	fl.mu.Unlock()
	finished := false
	defer func() {
		if !finished { // the handler panicked: let the next call deliver the rest
			fl.mu.Lock()
			fl.delivering = false
			fl.mu.Unlock()
		}
	}()
	for {
		fl.mu.Lock()
		if len(fl.pending) == 0 {
			fl.pending = nil
			fl.delivering = false
			fl.mu.Unlock()
			finished = true
			return
		}
		e := fl.pending[0]
		fl.pending = fl.pending[1:]
		fl.mu.Unlock()

		f.mu.RLock()
		fn := f.handler
		f.mu.RUnlock()
		if fn != nil {
			fn(e)
		}
	}
}

// Clock is the clock the fleet's locks run on.
func (f *Fleet) Clock() sparekey.Clock { return f.clock }
