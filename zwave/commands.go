package zwave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sparekey"
	"sparekey/device"
)

// SetPIN programs code into the 0-based slot (the lock's userId slot+1)
// and returns once a read of the slot from the lock shows it. zwave-js
// reports a set value as updated as soon as it was sent, so only the
// lock's answer to a read counts; a lock that hides codes in its reports
// ("******") confirms by the slot's status turning enabled.
func (d *Driver) SetPIN(ctx context.Context, name string, slot int, code string) error {
	h, nodeID, err := d.target(name)
	if err != nil {
		return err
	}
	user := slot + 1
	what := fmt.Sprintf("program slot %d of", slot)
	if err := d.setValue(ctx, h, name, nodeID, what, valueID(ccUserCode, "userCode", user), code); err != nil {
		return err
	}
	got, err := d.poll(ctx, h, name, nodeID, what, valueID(ccUserCode, "userCode", user))
	if err != nil {
		return err
	}
	shown, _ := got.(string)
	switch {
	case shown == code:
		return nil
	case shown != "" && strings.Trim(shown, "*") != "":
		return sparekey.Errorf(sparekey.ELOCKFAILED, "lock %s holds another code in slot %d after it was programmed", name, slot)
	}
	status, err := d.poll(ctx, h, name, nodeID, what, valueID(ccUserCode, "userIdStatus", user))
	if err != nil {
		return err
	}
	if n, _ := number(status); n != userEnabled {
		return sparekey.Errorf(sparekey.ELOCKFAILED, "lock %s did not take the code for slot %d (status %v)", name, slot, status)
	}
	return nil
}

// ClearPIN empties the slot and returns once a read of it from the lock
// shows it available.
func (d *Driver) ClearPIN(ctx context.Context, name string, slot int) error {
	h, nodeID, err := d.target(name)
	if err != nil {
		return err
	}
	user := slot + 1
	what := fmt.Sprintf("clear slot %d of", slot)
	// zwave-js clears the code when the slot's status is set available.
	if err := d.setValue(ctx, h, name, nodeID, what, valueID(ccUserCode, "userIdStatus", user), userAvailable); err != nil {
		return err
	}
	status, err := d.poll(ctx, h, name, nodeID, what, valueID(ccUserCode, "userIdStatus", user))
	if err != nil {
		return err
	}
	if n, _ := number(status); n != userAvailable {
		return sparekey.Errorf(sparekey.ELOCKFAILED, "lock %s did not clear slot %d (status %v)", name, slot, status)
	}
	return nil
}

// Lock throws the bolt and returns once the lock's currentMode shows it
// secured; a bolt that reports Unknown (254) is jammed.
func (d *Driver) Lock(ctx context.Context, name string) error {
	return d.bolt(ctx, name, modeSecured, "lock")
}

// Unlock draws the bolt and returns once the lock's currentMode shows it
// unsecured.
func (d *Driver) Unlock(ctx context.Context, name string) error {
	return d.bolt(ctx, name, modeUnsecured, "unlock")
}

func (d *Driver) bolt(ctx context.Context, name string, want int, what string) error {
	h, nodeID, err := d.target(name)
	if err != nil {
		return err
	}
	judge := func(v any) (bool, error) {
		switch n, _ := number(v); n {
		case want:
			return true, nil
		case modeUnknown:
			return true, sparekey.Errorf(sparekey.ELOCKJAMMED, "lock %s is jammed: the bolt did not move", name)
		}
		return false, nil
	}
	w := d.waiters.Add(name, func(r report) (bool, error) {
		if r.value == nil || r.value.CommandClass != ccDoorLock || r.value.Property != "currentMode" {
			return false, nil
		}
		return judge(r.value.NewValue)
	})
	defer d.waiters.Remove(name, w)
	if err := d.setValue(ctx, h, name, nodeID, what, valueID(ccDoorLock, "targetMode", 0), want); err != nil {
		return err
	}
	// A bolt already where it was sent reports no change: read it.
	if got, err := d.poll(ctx, h, name, nodeID, what, valueID(ccDoorLock, "currentMode", 0)); err == nil {
		if done, err := judge(got); done {
			return err
		}
	}
	err = w.Wait(ctx, d.cfg.CommandTimeout)
	if errors.Is(err, device.ErrUnconfirmed) {
		return sparekey.Errorf(sparekey.ELOCKTIMEOUT, "lock %s did not confirm the command to %s it within %s", name, what, d.cfg.CommandTimeout)
	}
	return err
}

// Refresh reads the bolt from the lock and reports where it stands as an
// EventState, changed or not: the device layer asks after a reconnect or a
// takeover, when this instance may have missed the lock's reports. It does
// nothing while the hub is unreachable.
func (d *Driver) Refresh(ctx context.Context, name string) error {
	h, nodeID, err := d.target(name)
	if err != nil {
		if sparekey.ErrorCode(err) == sparekey.ELOCKOFFLINE {
			return nil
		}
		return err
	}
	v, err := d.poll(ctx, h, name, nodeID, "read", valueID(ccDoorLock, "currentMode", 0))
	if err != nil {
		if sparekey.ErrorCode(err) == sparekey.ELOCKOFFLINE {
			return nil
		}
		return err
	}
	mode, ok := number(v)
	if !ok {
		return nil
	}
	l := &lockNode{mode: mode}
	d.emit(name, []sparekey.DeviceEvent{{Device: name, Kind: sparekey.EventState, At: d.cfg.Clock.Now(),
		Slot: -1, Battery: -1, State: l.state()}})
	return nil
}

// target finds the lock's hub; a hub that is not connected, or a lock
// zwave-js marked dead, is ELOCKOFFLINE.
func (d *Driver) target(name string) (*hub, int, error) {
	hubName, nodeID, err := ParseAddress(name)
	if err != nil {
		return nil, 0, err
	}
	h := d.hubs[hubName]
	switch {
	case h == nil:
		return nil, 0, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is on hub %s, which is not configured (serve --zwave %s=ws://…)", name, hubName, hubName)
	case !h.connected.Load():
		return nil, 0, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: its Z-Wave JS server %s is unreachable", name, hubName)
	case h.isDead(nodeID):
		// The pings find out when it answers again.
		return nil, 0, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline: it stopped answering and zwave-js marked it dead", name)
	}
	return h, nodeID, nil
}

// valueID is a zwave-js value id on the root endpoint; key 0 means none.
func valueID(cc int, property string, key int) map[string]any {
	id := map[string]any{"commandClass": cc, "endpoint": 0, "property": property}
	if key != 0 {
		id["propertyKey"] = key
	}
	return id
}

// setValue sends node.set_value and checks zwave-js's answer: a value the
// node could not be sent is ELOCKFAILED with zwave-js's reason.
func (d *Driver) setValue(ctx context.Context, h *hub, name string, nodeID int, what string, id map[string]any, value any) error {
	res, err := h.call(ctx, map[string]any{"command": "node.set_value", "nodeId": nodeID, "valueId": id, "value": value})
	if err != nil {
		return d.commandError(name, what, err)
	}
	var r struct {
		Result *struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		} `json:"result"`
		Success *bool `json:"success"` // schemas before 29
	}
	_ = json.Unmarshal(res, &r)
	switch {
	case r.Result != nil && r.Result.Status != 1 && r.Result.Status != 254 && r.Result.Status != 255:
		// SetValueStatus: 0 no device support, 2 fail, 3 endpoint not
		// found, 4 not implemented, 5 invalid value.
		return sparekey.Errorf(sparekey.ELOCKFAILED, "lock %s refused the command to %s it: zwave-js set value status %d %s", name, what, r.Result.Status, r.Result.Message)
	case r.Success != nil && !*r.Success:
		return sparekey.Errorf(sparekey.ELOCKFAILED, "lock %s refused the command to %s it", name, what)
	}
	return nil
}

// poll reads a value from the lock itself (node.poll_value) and returns it.
func (d *Driver) poll(ctx context.Context, h *hub, name string, nodeID int, what string, id map[string]any) (any, error) {
	res, err := h.call(ctx, map[string]any{"command": "node.poll_value", "nodeId": nodeID, "valueId": id})
	if err != nil {
		return nil, d.commandError(name, what, err)
	}
	var r struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, d.commandError(name, what, err)
	}
	return r.Value, nil
}

// zwave-js's errors (ZWaveErrorCodes) that say the lock was not reached.
const (
	zwNodeTimeout = 201 // ZW0201: no response from the node in time
	zwNodeDead    = 202 // ZW0202: the node did not respond; presumed dead
	zwNoAck       = 204 // ZW0204: the node did not acknowledge the command
)

// commandError words a failed command for the lock's health: the hub
// away, no answer in time, or zwave-js's own error with its code.
func (d *Driver) commandError(name, what string, err error) error {
	var se *errServer
	switch {
	case errors.Is(err, errHubDown):
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: its Z-Wave JS server is unreachable", name)
	case errors.Is(err, errNoResult):
		return sparekey.Errorf(sparekey.ELOCKTIMEOUT, "lock %s did not confirm the command to %s it within %s", name, what, d.cfg.CommandTimeout)
	case errors.As(err, &se) && se.zwave == zwNodeDead:
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline: the command to %s it failed: %s", name, what, se)
	case errors.As(err, &se) && (se.zwave == zwNodeTimeout || se.zwave == zwNoAck):
		return sparekey.Errorf(sparekey.ELOCKTIMEOUT, "lock %s did not answer the command to %s it: %s", name, what, se)
	case errors.As(err, &se):
		return sparekey.Errorf(sparekey.ELOCKFAILED, "the command to %s lock %s failed: %s", what, name, se)
	}
	return err
}
