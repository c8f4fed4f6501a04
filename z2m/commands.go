package z2m

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"sparekey"
	"sparekey/device"
)

// seen is one report of a lock as a waiting command judges it: the
// report, and Zigbee2MQTT's users cache as the previous message left it.
type seen struct {
	report *Report
	before map[int]User
}

// SetPIN programs code into the 0-based slot and returns once the lock
// confirmed it. Zigbee2MQTT repeats its cached state in every message, so
// a stale "enabled" for the slot proves nothing; what counts is, in order:
// a pin_code_added/changed event for the slot, the slot's exposed PIN equal
// to code, or the slot's status turning enabled from something else. On a
// lock that has shown neither events nor PINs, the slot is read first when
// its status is unknown, and cleared first when it is enabled, so that the
// status can turn.
func (a *Adapter) SetPIN(ctx context.Context, name string, slot int, code string) error {
	status, err := a.baseline(ctx, name, slot)
	if err != nil {
		return err
	}
	if status == "enabled" && !a.showsPINsOrEvents(name) {
		if err := a.ClearPIN(ctx, name, slot); err != nil {
			return err
		}
	}
	set := map[string]any{"pin_code": map[string]any{"user": slot, "user_type": "unrestricted", "user_enabled": true, "pin_code": code}}
	return a.command(ctx, name, "program slot "+fmt.Sprint(slot)+" of", set, slot, func(r *Report, before map[int]User) (bool, error) {
		if r.ActionUser != nil && *r.ActionUser == slot && (r.Action == "pin_code_added" || r.Action == "pin_code_changed") {
			return true, nil
		}
		u, ok := r.Users[slot]
		switch {
		case !ok || u.Status != "enabled":
			return false, nil
		case u.PIN != nil:
			return *u.PIN == code, nil
		}
		prev, known := before[slot]
		return known && prev.Status != "enabled", nil
	})
}

// ClearPIN empties the slot and returns once the lock confirmed it: a
// pin_code_deleted event for the slot, or the slot's status turning
// available from enabled. A slot already shown available is first given a
// throwaway code, so that the clearing shows as a change rather than as
// Zigbee2MQTT's cache, which may lag behind the lock.
func (a *Adapter) ClearPIN(ctx context.Context, name string, slot int) error {
	status, err := a.baseline(ctx, name, slot)
	if err != nil {
		return err
	}
	if status == "available" {
		if err := a.SetPIN(ctx, name, slot, throwawayCode()); err != nil {
			return err
		}
	}
	clear := map[string]any{"pin_code": map[string]any{"user": slot, "pin_code": nil}}
	return a.command(ctx, name, "clear slot "+fmt.Sprint(slot)+" of", clear, slot, func(r *Report, before map[int]User) (bool, error) {
		if r.ActionUser != nil && *r.ActionUser == slot && r.Action == "pin_code_deleted" {
			return true, nil
		}
		u, ok := r.Users[slot]
		if !ok || u.Status != "available" {
			return false, nil
		}
		prev, known := before[slot]
		return known && prev.Status == "enabled", nil
	})
}

// showsPINsOrEvents reports whether the lock has sent a programming event
// or an exposed PIN, either of which confirms a code by itself.
func (a *Adapter) showsPINsOrEvents(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.track(name)
	return d.programEvents || d.exposesPIN
}

// baseline returns the slot's status as Zigbee2MQTT last showed it,
// reading the slot first when it never did: the first message that has
// the slot is then an answer, since no cached copy of it exists.
func (a *Adapter) baseline(ctx context.Context, name string, slot int) (string, error) {
	a.mu.Lock()
	u, known := a.track(name).users[slot]
	a.mu.Unlock()
	if known {
		return u.Status, nil
	}
	var status string
	err := a.command(ctx, name, "read slot "+fmt.Sprint(slot)+" of", nil, slot, func(r *Report, _ map[int]User) (bool, error) {
		u, ok := r.Users[slot]
		status = u.Status
		return ok, nil
	})
	return status, err
}

// throwawayCode is a random 8-digit code that only ever stands in a slot
// for the moment between two commands.
func throwawayCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// Lock throws the bolt and returns once the lock reports it locked; a
// bolt that stops half-way is ELOCKJAMMED.
func (a *Adapter) Lock(ctx context.Context, name string) error {
	return a.bolt(ctx, name, "LOCK", "locked")
}

// Unlock draws the bolt and returns once the lock reports it unlocked.
func (a *Adapter) Unlock(ctx context.Context, name string) error {
	return a.bolt(ctx, name, "UNLOCK", "unlocked")
}

func (a *Adapter) bolt(ctx context.Context, name, state, want string) error {
	return a.command(ctx, name, strings.ToLower(state), map[string]any{"state": state}, -1, func(r *Report, _ map[int]User) (bool, error) {
		switch {
		case r.LockState == want || (r.LockState == "" && r.State == state):
			return true, nil
		case r.LockState == "not_fully_locked" || r.Action == "error_jammed" || r.DoorState == "error_jammed":
			return true, sparekey.Errorf(sparekey.ELOCKJAMMED, "lock %s is jammed: the bolt did not move", name)
		}
		return false, nil
	})
}

// Refresh asks the lock for its state; the answer arrives as a message
// like any other. It does nothing while the broker is unreachable.
func (a *Adapter) Refresh(ctx context.Context, name string) error {
	return a.publish(ctx, name, "get", map[string]any{"state": ""})
}

// command publishes payload to the device's /set topic (and, for a slot, a
// /get of it) and waits for a report that match accepts.
func (a *Adapter) command(ctx context.Context, name, what string, payload map[string]any, slot int, match func(*Report, map[int]User) (bool, error)) error {
	if err := checkName(name); err != nil {
		return err
	}
	a.mu.Lock()
	d := a.track(name)
	if d.availKnown && !d.online {
		a.mu.Unlock()
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline", name)
	}
	w := a.waiters.Add(name, func(s seen) (bool, error) { return match(s.report, s.before) })
	if slot < 0 {
		d.commanding++
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.waiters.Remove(name, w)
		if slot < 0 {
			d.commanding--
		}
		a.mu.Unlock()
	}()

	if payload != nil {
		if err := a.publish(ctx, name, "set", payload); err != nil {
			return err
		}
	}
	if slot >= 0 {
		// Not every lock sends a programming event; reading the slot back
		// confirms it on the others.
		if err := a.publish(ctx, name, "get", map[string]any{"pin_code": map[string]any{"user": slot}}); err != nil {
			return err
		}
	}
	err := w.Wait(ctx, a.cfg.CommandTimeout)
	if errors.Is(err, device.ErrUnconfirmed) {
		return sparekey.Errorf(sparekey.ELOCKTIMEOUT, "lock %s did not confirm the command to %s it within %s", name, what, a.cfg.CommandTimeout)
	}
	return err
}

// path: wildcards or empty levels would publish to the wrong locks.
func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, "+#\x00") || strings.HasPrefix(name, "/") ||
		strings.HasSuffix(name, "/") || strings.Contains(name, "//") || strings.HasPrefix(name, "bridge/") {
		return sparekey.Errorf(sparekey.EINVALID, "%q is not a Zigbee2MQTT device name", name)
	}
	return nil
}
