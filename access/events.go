package access

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"sparekey"
)

// Recorder records what locks report and tells observers of each recorded
// event, in the same transaction: what follows from an event (a used backup
// code rotated, a lock back online programmed, a jam counted toward a work
// order) is theirs, not the recorder's.
type Recorder struct {
	base
	observers []sparekey.LockObserver
	wake      func() // the reconciler's Nudge, once an event that may leave slots to program is committed

	unknown sync.Map // device names of events from no known lock, logged once
}

// HandleEvent records what a lock reported: the lock's live state, a lock
// event saying whose code it was, and an audit line; then every observer
// is told, with the lock's state before the event. Events for unknown
// devices are logged and dropped.
func (r *Recorder) HandleEvent(ctx context.Context, ev sparekey.DeviceEvent) error {
	if ev.At.IsZero() {
		ev.At = r.now()
	}
	if at, ok := r.unknown.Load(ev.Device); ok && time.Since(at.(time.Time)) < unknownFor {
		return nil // no lock of ours, a minute ago: spare the writer
	}
	err := r.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, ev.Device)
		if err != nil {
			return err
		}
		if ev.Replayed {
			if dup, err := recordedAlready(ctx, tx, lock, ev); err != nil || dup {
				return err
			}
		}
		before := lock.State
		applyToLock(lock, ev)
		if err := tx.UpdateLock(ctx, lock); err != nil {
			return err
		}
		if ev.Kind == sparekey.EventState {
			// Where the lock stands, not something that happened, unless
			// it shows a jam that began unseen (while Sparekey was down,
			// or before the adapter's first report of the lock): then it
			// is that jam. Not so the other way: Zigbee2MQTT's cache
			// keeps no jam action, so a jammed lock's first report after
			// a restart can read "locked"; only the lock working ends a
			// jam.
			if lock.State != sparekey.LockStateJammed || before == sparekey.LockStateJammed {
				return nil
			}
			ev.Kind = sparekey.EventJammed
		}
		audit := &sparekey.AuditEvent{At: ev.At, Actor: "lock:" + lock.Device, Action: "lock." + string(ev.Kind),
			Subject: "lock:" + lock.Device, Detail: map[string]string{}}
		if ev.Source != "" {
			audit.Detail["source"] = ev.Source
		}
		if ev.Kind == sparekey.EventJammed && before == sparekey.LockStateJammed && ev.Source == "keypad" {
			// The keypad's X answering a code: the same jam, not a new one.
			audit.Action, audit.Detail["jam"] = "lock.code_tried_while_jammed", "under way"
		}
		switch ev.Kind {
		case sparekey.EventKeypadUnlock:
			if err := whoseCode(ctx, tx, lock, ev, audit.Detail); err != nil {
				return err
			}
		case sparekey.EventBattery:
			audit.Detail["battery"] = fmt.Sprint(ev.Battery)
		}
		detail, err := eventDetail(ctx, tx, ev, audit.Detail)
		if err != nil {
			return err
		}
		le := &sparekey.LockEvent{LockID: lock.ID, At: ev.At, Kind: ev.Kind, Slot: ev.Slot, Detail: detail}
		if ev.Kind == sparekey.EventKeypadUnlock {
			le.ResidentID, _ = strconv.ParseInt(audit.Detail["resident"], 10, 64)
		}
		if err := tx.RecordLockEvent(ctx, le); err != nil {
			return err
		}
		if err := tx.RecordAudit(ctx, audit); err != nil {
			return err
		}
		for _, o := range r.observers {
			if err := o.ObserveLockEvent(ctx, tx, lock, before, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		// A broker also carries lights and sensors: say so once a device,
		// and look again only after a while (a lock being imported).
		if _, seen := r.unknown.Swap(ev.Device, time.Now()); !seen {
			r.log.Warn("events from a device that is no lock in Sparekey are ignored", "device", ev.Device, "kind", ev.Kind)
		}
		return nil
	}
	if err != nil {
		return err
	}
	switch ev.Kind {
	case sparekey.EventKeypadUnlock, sparekey.EventOnline, sparekey.EventReset:
		// A used code rotated, a lock back, a lock that lost its codes:
		// there may be slots to program now.
		r.wake()
	}
	return nil
}

// unknownFor is how long events of a device that is no lock of ours are
// dropped without a look at the database.
const unknownFor = time.Minute

// recordedAlready reports whether a replayed event was recorded by the
// instance that owned the lock: the same kind and slot within two seconds
// (each instance stamps a report when it reads it).
func recordedAlready(ctx context.Context, tx sparekey.LockEventStore, lock *sparekey.Lock, ev sparekey.DeviceEvent) (bool, error) {
	recent, err := tx.LockEvents(ctx, lock.ID, 50)
	if err != nil {
		return false, err
	}
	for _, e := range recent {
		d := e.At.Sub(ev.At)
		if e.Kind == ev.Kind && e.Slot == ev.Slot && d > -2*time.Second && d < 2*time.Second {
			return true, nil
		}
	}
	return false, nil
}

// eventDetail is the lock event's line for staff: how it happened and, for
// a code, whose it was, e.g. "keypad, backup code of Ana Ruiz".
func eventDetail(ctx context.Context, tx sparekey.ResidentStore, ev sparekey.DeviceEvent, audit map[string]string) (string, error) {
	var parts []string
	if ev.Source != "" {
		parts = append(parts, ev.Source)
	}
	if audit["jam"] == "under way" {
		parts = append(parts, "a code typed while jammed")
	}
	if ev.Kind == sparekey.EventBattery {
		parts = append(parts, fmt.Sprintf("%d%%", ev.Battery))
	}
	if purpose := audit["purpose"]; purpose != "" {
		code := purpose + " code"
		if purpose == string(sparekey.SlotResident) {
			code = "access code"
		}
		if id, err := strconv.ParseInt(audit["resident"], 10, 64); err == nil && id > 0 {
			r, err := tx.Resident(ctx, id)
			if err != nil && sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
				return "", err
			}
			if r != nil {
				code += " of " + r.Name
			}
		} else if purpose == string(sparekey.SlotBackup) {
			code = "backup code given to nobody"
		}
		parts = append(parts, code)
	} else if ev.Kind == sparekey.EventKeypadUnlock {
		parts = append(parts, "a code Sparekey did not set")
	}
	if audit["repeat_use"] == "true" {
		parts = append(parts, "used again before its replacement reached the lock")
	}
	return strings.Join(parts, ", "), nil
}

func applyToLock(lock *sparekey.Lock, ev sparekey.DeviceEvent) {
	at := ev.At
	lock.LastSeen = &at
	if ev.Kind == sparekey.EventOffline {
		lock.Online = false
		return
	}
	lock.Online = true
	if ev.Battery >= 0 && (ev.Kind == sparekey.EventBattery || ev.Kind == sparekey.EventOnline || ev.Kind == sparekey.EventState) {
		lock.Battery = ev.Battery
	}
	switch ev.Kind {
	case sparekey.EventJammed:
		lock.State = sparekey.LockStateJammed
	case sparekey.EventJamCleared:
		lock.State = ev.State
		if ev.State == "" || ev.State == sparekey.LockStateJammed {
			lock.State = sparekey.LockStateUnknown // cleared, bolt position not told
		}
	case sparekey.EventKeypadUnlock, sparekey.EventUnlocked:
		lock.State = sparekey.LockStateUnlocked
	case sparekey.EventLocked:
		lock.State = sparekey.LockStateLocked
	default:
		if ev.State != "" {
			lock.State = ev.State
		}
	}
}

// whoseCode notes in the audit detail which slot's code opened the door,
// what it is for and whose it is. A backup code's first use also ends it;
// Codes sees to that as an observer of the recorded event, under the same
// conditions.
func whoseCode(ctx context.Context, tx sparekey.SlotStore, lock *sparekey.Lock, ev sparekey.DeviceEvent, detail map[string]string) error {
	number := ev.Slot
	detail["slot"] = fmt.Sprint(number)
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Number != number {
			continue
		}
		detail["purpose"] = string(sl.Purpose)
		switch backupUse(sl, ev) {
		case notBackup:
			if sl.Purpose == sparekey.SlotResident {
				detail["resident"] = fmt.Sprint(sl.ResidentID)
			}
		case useBeforeIssue:
			// A report older than the issue (delivered again after a
			// reconnect): the holder now has not used it.
			detail["before_issue"] = "true"
		case useAgain:
			// Used again before its replacement reached the lock: the
			// rotation is already under way.
			detail["repeat_use"] = "true"
			if sl.IssuedTo != 0 {
				detail["resident"] = fmt.Sprint(sl.IssuedTo)
			}
		case useByHolder:
			detail["resident"] = fmt.Sprint(sl.IssuedTo)
		}
		return nil
	}
	return nil
}
