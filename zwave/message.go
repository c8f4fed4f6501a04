package zwave

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Command classes Sparekey reads and drives.
const (
	ccDoorLock     = 98  // 0x62: the bolt (targetMode, currentMode)
	ccUserCode     = 99  // 0x63: the keypad's codes, one userId per slot
	ccNotification = 113 // 0x71: Access Control and Power Management events
	ccBattery      = 128 // 0x80
)

// Door Lock CC modes.
const (
	modeUnsecured = 0
	modeUnknown   = 254 // what a jammed bolt reports
	modeSecured   = 255
)

// Notification CC: the types and Access Control events Sparekey reads.
const (
	notifyAccessControl   = 6
	notifyHomeSecurity    = 7
	notifyPowerManagement = 8

	acManualLock     = 1
	acManualUnlock   = 2
	acRFLock         = 3
	acRFUnlock       = 4
	acKeypadLock     = 5
	acKeypadUnlock   = 6
	acAutoLock       = 9
	acJammed         = 11 // also the "Lock state" variable's jammed state
	acKeypadDisabled = 16 // also a "Keypad state" state
	acCodeLimit      = 19 // "Manually enter user access code exceeds code limit"
	acInvalidCode    = 50 // "Invalid credential used"

	hsInvalidCode = 4 // Home Security "Tampering, invalid code"

	pmReplaceSoon = 10
	pmReplaceNow  = 11
)

// User Code CC user id statuses.
const (
	userAvailable = 0
	userEnabled   = 1
)

// schemaVersion is the zwave-js-server API schema Sparekey speaks: the
// messages below have this shape from schema 32 (notifications per
// endpoint) on; zwave-js-server 1.24 and later, Z-Wave JS UI 8.6 and
// later, serve it.
const schemaVersion = 35

// incoming is any message zwave-js-server sends: its version on connect,
// a command's result, or an event.
type incoming struct {
	Type string `json:"type"`

	// type "version"
	ServerVersion    string `json:"serverVersion"`
	DriverVersion    string `json:"driverVersion"`
	HomeID           int64  `json:"homeId"`
	MinSchemaVersion int    `json:"minSchemaVersion"`
	MaxSchemaVersion int    `json:"maxSchemaVersion"`

	// type "result"
	MessageID         string          `json:"messageId"`
	Success           bool            `json:"success"`
	Result            json.RawMessage `json:"result"`
	ErrorCode         string          `json:"errorCode"`
	Message           string          `json:"message"`
	ZWaveErrorCode    int             `json:"zwaveErrorCode"`
	ZWaveErrorMessage string          `json:"zwaveErrorMessage"`

	// type "event"
	Event *event `json:"event"`
}

// event is one event of the driver, the controller or a node.
type event struct {
	Source string          `json:"source"` // driver, controller, node
	Event  string          `json:"event"`  // value updated, notification, dead, alive…
	NodeID int             `json:"nodeId"`
	CCID   int             `json:"ccId"` // notification
	Args   json.RawMessage `json:"args"`
}

// valueArgs are a "value updated" or "value notification" event's args, and
// a value in a node's state dump.
type valueArgs struct {
	CommandClass int          `json:"commandClass"`
	Endpoint     int          `json:"endpoint"`
	Property     propertyName `json:"property"`
	PropertyKey  propertyName `json:"propertyKey"`
	NewValue     any          `json:"newValue"`
	PrevValue    any          `json:"prevValue"`
	Value        any          `json:"value"` // in the state dump
}

// propertyName is a value id's property or property key: zwave-js uses
// numbers (a userId) and strings ("Lock state") alike. It holds either as
// text.
type propertyName string

func (p *propertyName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = propertyName(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("property %s: neither a string nor a number", b)
	}
	*p = propertyName(n.String())
	return nil
}

// notificationArgs are a Notification CC "notification" event's args.
type notificationArgs struct {
	Type       int             `json:"type"`
	Event      int             `json:"event"`
	Label      string          `json:"label"`
	EventLabel string          `json:"eventLabel"`
	Parameters json.RawMessage `json:"parameters"`
}

// userID is the userId in a keypad event's parameters, 0 when there is
// none.
func (n notificationArgs) userID() int {
	var p struct {
		UserID int `json:"userId"`
	}
	if json.Unmarshal(n.Parameters, &p) != nil {
		return 0
	}
	return p.UserID
}

// node is one node in start_listening's state dump.
type node struct {
	NodeID int         `json:"nodeId"`
	Status int         `json:"status"` // 0 unknown, 1 asleep, 2 awake, 3 dead, 4 alive
	Ready  bool        `json:"ready"`
	Values []valueArgs `json:"values"`
}

const nodeDead = 3

// state is start_listening's result: the whole network as the driver knows
// it.
type state struct {
	State struct {
		Nodes []node `json:"nodes"`
	} `json:"state"`
}

// number is a JSON value as an int, when it is a whole number.
func number(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, false
		}
		return int(n), true
	case json.Number:
		i, err := strconv.Atoi(string(n))
		return i, err == nil
	}
	return 0, false
}
