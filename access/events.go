package access

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sparekey"
)

// HandleEvent records what a lock reported: the lock's live state, a lock
// event, an audit line, and the consequences for codes (a used backup code
// is rotated; a lock back online gets its pending slots retried at once).
// Events for unknown devices are logged and dropped.
func (s *Service) HandleEvent(ctx context.Context, ev sparekey.DeviceEvent) error {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	if at, ok := s.unknown.Load(ev.Device); ok && time.Since(at.(time.Time)) < unknownFor {
		return nil // no lock of ours, a minute ago: spare the writer
	}
	wake := false
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
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
			if err := s.keypadUsed(ctx, tx, lock, ev, audit); err != nil {
				return err
			}
			wake = true
		case sparekey.EventOnline:
			if err := retryNow(ctx, tx, lock, ev.At); err != nil {
				return err
			}
			wake = true
		case sparekey.EventReset:
			s.log.Warn("lock lost its codes; programming it anew", "lock", lock.Device)
			if err := resync(ctx, tx, lock, ev.At); err != nil {
				return err
			}
			wake = true
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
		if s.cfg.Observer != nil {
			return s.cfg.Observer.ObserveLockEvent(ctx, tx, lock, before, ev)
		}
		return nil
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		// A broker also carries lights and sensors: say so once a device,
		// and look again only after a while (a lock being imported).
		if _, seen := s.unknown.Swap(ev.Device, time.Now()); !seen {
			s.log.Warn("events from a device that is no lock in Sparekey are ignored", "device", ev.Device, "kind", ev.Kind)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if wake {
		s.Nudge()
	}
	return nil
}

// unknownFor is how long events of a device that is no lock of ours are
// dropped without a look at the database.
const unknownFor = time.Minute

// recordedAlready reports whether a replayed event was recorded by the
// instance that owned the lock: the same kind and slot within two seconds
// (each instance stamps a report when it reads it).
func recordedAlready(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, ev sparekey.DeviceEvent) (bool, error) {
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
func eventDetail(ctx context.Context, tx sparekey.Tx, ev sparekey.DeviceEvent, audit map[string]string) (string, error) {
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

// keypadUsed notes whose code opened the door; a backup code is used up by
// its first keypad use and rotated.
func (s *Service) keypadUsed(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, ev sparekey.DeviceEvent, audit *sparekey.AuditEvent) error {
	number := ev.Slot
	audit.Detail["slot"] = fmt.Sprint(number)
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Number != number {
			continue
		}
		audit.Detail["purpose"] = string(sl.Purpose)
		switch {
		case sl.Purpose == sparekey.SlotResident:
			audit.Detail["resident"] = fmt.Sprint(sl.ResidentID)
		case sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued && sl.IssuedAt != nil && ev.At.Before(*sl.IssuedAt):
			// A report older than the issue (delivered again after a
			// reconnect): the holder now has not used it.
			audit.Detail["before_issue"] = "true"
			return nil
		case sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupAvailable && sl.UsedAt != nil && sl.Sync == sparekey.SyncPending:
			// Used again before its replacement reached the lock: the
			// rotation is already under way.
			audit.Detail["repeat_use"] = "true"
			if sl.IssuedTo != 0 {
				audit.Detail["resident"] = fmt.Sprint(sl.IssuedTo)
			}
			return nil
		case sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued:
			audit.Detail["resident"] = fmt.Sprint(sl.IssuedTo)
			now := s.now()
			sl.UsedAt = &now
			return s.rotate(ctx, tx, lock, sl, "used")
		case sl.Purpose == sparekey.SlotBackup:
			// A pool code nobody was given opened the door: guessed or
			// leaked. Rotate it and leave a trace.
			s.log.Warn("unissued backup code used at keypad", "lock", lock.Device, "slot", number)
			return s.rotate(ctx, tx, lock, sl, "used_unissued")
		}
	}
	return nil
}

// RetryPending makes every pending slot of every lock due now: the path to
// the locks (the MQTT broker) is back, so nothing needs to wait out its
// backoff.
func (s *Service) RetryPending(ctx context.Context) error {
	var locks []*sparekey.Lock
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		locks, err = tx.Locks(ctx)
		return err
	})
	if err != nil {
		return err
	}
	devices := make([]string, len(locks))
	for i, lock := range locks {
		devices[i] = lock.Device
	}
	return s.RetryLocks(ctx, devices)
}

// RetryLocks makes the pending and failed slots of the named locks due now:
// this instance just took them over from another.
func (s *Service) RetryLocks(ctx context.Context, devices []string) error {
	for _, device := range devices {
		err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
			lock, err := tx.LockByDevice(ctx, device)
			if err != nil {
				return err
			}
			return retryNow(ctx, tx, lock, s.now())
		})
		if err != nil && sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
			return err
		}
	}
	s.Nudge()
	return nil
}

// retryNow makes every pending or failed slot of a lock that just came back
// due now.
func retryNow(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock, now time.Time) error {
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return err
	}
	for _, sl := range slots {
		// Failed slots too: a lock or hub that was unreachable may well
		// take them now.
		if (sl.Sync == sparekey.SyncPending || sl.Sync == sparekey.SyncFailed) && sl.NextSyncAt.After(now) {
			sl.NextSyncAt = now
			if err := tx.UpdateSlot(ctx, sl); err != nil {
				return err
			}
		}
	}
	return nil
}
