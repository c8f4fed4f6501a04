package z2m

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"sparekey"
)

// MaxPayload is the largest message the adapter reads. A lock's state is a
// few hundred bytes; a users map of 250 slots a few KiB.
const MaxPayload = 64 << 10

// Report is one message a lock published on zigbee2mqtt/<name>: the
// device's cached state, deep-merged by Zigbee2MQTT, plus the action keys
// of an event when the message is one. Fields the message did not carry
// are zero ("" or nil).
type Report struct {
	State        string // LOCK or UNLOCK
	LockState    string // locked, unlocked, not_fully_locked
	DoorState    string // open, closed, error_jammed, …
	Alarm        string // deadbolt_jammed, tamper_alarm_keypad_attempts, lock_reset_to_factory_defaults, …
	Action       string // unlock, lock, unlock_failure_invalid_pin_or_id, pin_code_added, error_jammed, …
	ActionSource string // action_source_name: keypad, rf, manual, rfid, fingerprint
	ActionUser   *int   // the slot an action names
	Battery      *int   // percent
	Users        map[int]User
	// LastSeen is when Zigbee2MQTT last heard from the device, with its
	// advanced.last_seen option (ISO 8601 or epoch milliseconds).
	LastSeen *time.Time
}

// User is one slot of a lock's users map, as /get pin_code reports it.
type User struct {
	Status string  // available, enabled, disabled, not_supported_…
	PIN    *string // only with the device option expose_pin
}

// ParseReport reads a state message. Anything but a JSON object is an
// error; a field of an unexpected type is ignored rather than failing the
// whole message, since one odd converter must not hide a keypad event.
func ParseReport(payload []byte) (*Report, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("payload of %d bytes is over the %d byte limit", len(payload), MaxPayload)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	r := &Report{
		State:        strings.ToUpper(text(fields["state"])),
		LockState:    strings.ToLower(text(fields["lock_state"])),
		DoorState:    strings.ToLower(text(fields["door_state"])),
		Alarm:        strings.ToLower(text(fields["alarm"])),
		Action:       strings.ToLower(text(fields["action"])),
		ActionSource: strings.ToLower(text(fields["action_source_name"])),
		ActionUser:   integer(fields["action_user"]),
		Battery:      integer(fields["battery"]),
	}
	if raw, ok := fields["last_seen"]; ok {
		var ms float64
		if t, err := time.Parse(time.RFC3339Nano, text(raw)); err == nil {
			t = t.UTC()
			r.LastSeen = &t
		} else if json.Unmarshal(raw, &ms) == nil && ms > 0 && ms < 1e15 {
			t := time.UnixMilli(int64(ms)).UTC()
			r.LastSeen = &t
		}
	}
	if r.Battery != nil && (*r.Battery < 0 || *r.Battery > 100) {
		r.Battery = nil
	}
	if raw, ok := fields["users"]; ok {
		var users map[string]json.RawMessage
		if json.Unmarshal(raw, &users) == nil {
			for k, v := range users {
				slot, err := strconv.Atoi(k)
				if err != nil || slot < 0 || slot > 65535 {
					continue
				}
				var u map[string]json.RawMessage
				if json.Unmarshal(v, &u) != nil {
					continue
				}
				if r.Users == nil {
					r.Users = map[int]User{}
				}
				user := User{Status: text(u["status"])}
				if pin, ok := u["pin_code"]; ok && !isNull(pin) {
					s := text(pin)
					if s == "" {
						if n := integer(pin); n != nil {
							s = strconv.Itoa(*n)
						}
					}
					user.PIN = &s
				}
				r.Users[slot] = user
			}
		}
	}
	return r, nil
}

// text returns a JSON string's value, trimmed; anything but a string is "".
func text(raw json.RawMessage) string {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// integer returns a JSON number (or a string of digits) as an int, rounded;
// nil when absent, null, out of range or not a number.
func integer(raw json.RawMessage) *int {
	if raw == nil || isNull(raw) {
		return nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return nil
		}
	}
	if math.IsNaN(f) || f < -1e9 || f > 1e9 {
		return nil
	}
	n := int(math.Round(f))
	return &n
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// ParseAvailability reads zigbee2mqtt/<name>/availability: JSON
// {"state":"online"} from Zigbee2MQTT 2.x, or the plain text online/offline
// of 1.x's legacy format.
func ParseAvailability(payload []byte) (online bool, err error) {
	p := bytes.TrimSpace(payload)
	state := string(p)
	if bytes.HasPrefix(p, []byte("{")) {
		var v struct {
			State string `json:"state"`
		}
		if err := json.Unmarshal(p, &v); err != nil {
			return false, fmt.Errorf("availability is not valid JSON: %w", err)
		}
		state = v.State
	}
	switch strings.ToLower(state) {
	case "online":
		return true, nil
	case "offline":
		return false, nil
	}
	return false, fmt.Errorf("availability %q is neither online nor offline", sparekey.Clip(state, 40, "…"))
}

// bridgeLog is a line of zigbee2mqtt/bridge/logging.
type bridgeLog struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// failedDevice returns the device a bridge error names, for messages like
// "Publish 'set' 'pin_code' to 'unit-101-front' failed: …" or "Entity
// 'unit-101-front' is unknown", or "".
func failedDevice(payload []byte) string {
	var l bridgeLog
	if json.Unmarshal(payload, &l) != nil || l.Level != "error" {
		return ""
	}
	if name, ok := strings.CutPrefix(l.Message, "Entity '"); ok {
		if j := strings.Index(name, "' is unknown"); j > 0 {
			return name[:j]
		}
	}
	const to = "' to '"
	i := strings.Index(l.Message, to)
	if !strings.HasPrefix(l.Message, "Publish '") || i < 0 {
		return ""
	}
	rest := l.Message[i+len(to):]
	j := strings.Index(rest, "' failed")
	if j < 0 {
		return ""
	}
	return rest[:j]
}
