package z2m

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func intp(n int) *int       { return &n }
func strp(s string) *string { return &s }

func TestParseReport(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Report
	}{
		{"keypad unlock", msgKeypadUnlock, Report{State: "UNLOCK", LockState: "unlocked", Action: "unlock",
			ActionSource: "keypad", ActionUser: intp(3), Battery: intp(87)}},
		{"door state", msgDoorJammed, Report{State: "LOCK", LockState: "locked", DoorState: "error_jammed", Battery: intp(87)}},
		{"Yale C4 alarm", msgC4Jam, Report{State: "UNLOCKED", LockState: "not_fully_locked", Alarm: "deadbolt_jammed", Battery: intp(87)}},
		{"battery as a string", `{"battery":"87","lock_state":"locked"}`, Report{LockState: "locked", Battery: intp(87)}},
		{"battery as a padded string", `{"battery":" 87 "}`, Report{Battery: intp(87)}},
		{"battery rounded", `{"battery":86.6}`, Report{Battery: intp(87)}},
		{"battery out of range", `{"battery":250}`, Report{}},
		{"battery negative", `{"battery":-1}`, Report{}},
		{"battery not a number", `{"battery":"full"}`, Report{}},
		{"battery a bool", `{"battery":true}`, Report{}},
		{"action_user as a string", `{"action":"unlock","action_user":"4"}`, Report{Action: "unlock", ActionUser: intp(4)}},
		{"null fields", `{"state":null,"lock_state":null,"door_state":null,"alarm":null,"action":null,"action_source_name":null,"action_user":null,"battery":null,"users":null}`, Report{}},
		{"fields of the wrong type", `{"state":1,"lock_state":["locked"],"action":{"a":1},"action_user":[3],"users":"none"}`, Report{}},
		{"upper and mixed case, padded", `{"state":"lock","lock_state":" LOCKED ","door_state":"Closed","action":"Manual_Lock","action_source_name":"MANUAL"}`,
			Report{State: "LOCK", LockState: "locked", DoorState: "closed", Action: "manual_lock", ActionSource: "manual"}},
		{"unknown fields", `{"linkquality":120,"voltage":5800,"auto_relock_time":30,"sound_volume":"low_volume","update":{"state":"idle","installed_version":16843009},"lock_state":"locked"}`,
			Report{LockState: "locked"}},
		{"users with a string PIN", `{"users":{"3":{"status":"enabled","pin_code":"0042"}}}`,
			Report{Users: map[int]User{3: {Status: "enabled", PIN: strp("0042")}}}},
		{"users with a number PIN", `{"users":{"3":{"status":"enabled","pin_code":1234}}}`,
			Report{Users: map[int]User{3: {Status: "enabled", PIN: strp("1234")}}}},
		{"users with a null PIN", `{"users":{"3":{"status":"available","pin_code":null}}}`,
			Report{Users: map[int]User{3: {Status: "available"}}}},
		{"users without PINs (expose_pin off)", `{"users":{"0":{"status":"enabled"},"1":{"status":"available"},"2":{"status":"not_supported_255"}}}`,
			Report{Users: map[int]User{0: {Status: "enabled"}, 1: {Status: "available"}, 2: {Status: "not_supported_255"}}}},
		{"users with odd slots", `{"users":{"x":{"status":"enabled"},"-1":{"status":"enabled"},"70000":{"status":"enabled"},"5":"enabled","6":{"status":"disabled"}}}`,
			Report{Users: map[int]User{6: {Status: "disabled"}}}},
		{"users as an array", `{"users":[{"status":"enabled"}]}`, Report{}},
		{"empty object", `{}`, Report{}},
		{"surrounding whitespace", " \n\t{\"lock_state\":\"unlocked\"}\n", Report{LockState: "unlocked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReport([]byte(tt.payload))
			if err != nil {
				t.Fatalf("ParseReport(%s): %v", tt.payload, err)
			}
			want := tt.want // fields the table does not name (added later) are not compared
			if got.State != want.State || got.LockState != want.LockState || got.DoorState != want.DoorState ||
				got.Alarm != want.Alarm || got.Action != want.Action || got.ActionSource != want.ActionSource ||
				!reflect.DeepEqual(got.ActionUser, want.ActionUser) || !reflect.DeepEqual(got.Battery, want.Battery) ||
				!reflect.DeepEqual(got.Users, want.Users) {
				t.Fatalf("ParseReport(%s)\n got %s\nwant %s", tt.payload, fmtReport(got), fmtReport(&want))
			}
		})
	}
}

func fmtReport(r *Report) string {
	p := func(n *int) string {
		if n == nil {
			return "nil"
		}
		return fmt.Sprint(*n)
	}
	var users []string
	for slot, u := range r.Users {
		pin := "nil"
		if u.PIN != nil {
			pin = fmt.Sprintf("%q", *u.PIN)
		}
		users = append(users, fmt.Sprintf("%d:{%s %s}", slot, u.Status, pin))
	}
	return fmt.Sprintf("{state=%q lock=%q door=%q alarm=%q action=%q source=%q user=%s battery=%s users=%v}",
		r.State, r.LockState, r.DoorState, r.Alarm, r.Action, r.ActionSource, p(r.ActionUser), p(r.Battery), users)
}

func TestParseReportRejects(t *testing.T) {
	big := `{"lock_state":"locked","pad":"` + strings.Repeat("x", 70<<10) + `"}`
	deep := `{"users":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	tests := []struct{ name, payload string }{
		{"empty", ""},
		{"not JSON", "lock_state=locked"},
		{"truncated", `{"lock_state":"locked"`},
		{"array", `[{"lock_state":"locked"}]`},
		{"string", `"locked"`},
		{"number", `42`},
		{"null", `null`},
		{"two objects", `{"state":"LOCK"}{"state":"UNLOCK"}`},
		{"70 KB", big},
		{"nested too deep", deep},
		{"invalid UTF-8 outside a string", "{\"a\":\xff}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReport([]byte(tt.payload))
			if err == nil {
				t.Fatalf("ParseReport(%.60q) = %s, want an error", tt.payload, fmtReport(r))
			}
			if r != nil {
				t.Fatalf("ParseReport(%.60q) returned a report with its error", tt.payload)
			}
		})
	}
}

func TestParseReportSizeLimit(t *testing.T) {
	// Exactly MaxPayload bytes is read; one more is refused.
	head, tail := `{"lock_state":"locked","pad":"`, `"}`
	at := head + strings.Repeat("x", MaxPayload-len(head)-len(tail)) + tail
	if len(at) != MaxPayload {
		t.Fatalf("test payload is %d bytes", len(at))
	}
	if r, err := ParseReport([]byte(at)); err != nil || r.LockState != "locked" {
		t.Fatalf("ParseReport of %d bytes: %v", len(at), err)
	}
	over := head + strings.Repeat("x", MaxPayload-len(head)-len(tail)+1) + tail
	if _, err := ParseReport([]byte(over)); err == nil {
		t.Fatalf("ParseReport of %d bytes: no error", len(over))
	}
}

func TestParseAvailability(t *testing.T) {
	tests := []struct {
		payload string
		online  bool
		ok      bool
	}{
		{`{"state":"online"}`, true, true},
		{`{"state":"offline"}`, false, true},
		{`{"state":"ONLINE"}`, true, true},
		{` {"state":"offline"} ` + "\n", false, true},
		{`{"state":"online","extra":1}`, true, true},
		{`online`, true, true},
		{`offline`, false, true},
		{"online\n", true, true},
		{`Offline`, false, true},
		{``, false, false}, // a cleared retained message
		{`{"state":"maybe"}`, false, false},
		{`{"state":1}`, false, false},
		{`{"availability":"online"}`, false, false},
		{`{"state":"online"`, false, false},
		{`"online"`, false, false},
		{`true`, false, false},
		{`on line`, false, false},
		{strings.Repeat("x", 100000), false, false},
	}
	for _, tt := range tests {
		online, err := ParseAvailability([]byte(tt.payload))
		if (err == nil) != tt.ok || (tt.ok && online != tt.online) {
			t.Errorf("ParseAvailability(%.40q) = %v, %v; want online=%v ok=%v", tt.payload, online, err, tt.online, tt.ok)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("ParseAvailability(%.40q): error of %d bytes quotes the payload whole", tt.payload, len(err.Error()))
		}
	}
}

func TestFailedDevice(t *testing.T) {
	tests := []struct{ payload, want string }{
		{`{"level":"error","message":"Publish 'set' 'pin_code' to 'unit-101-front' failed: 'Error: user must be in range for device'","namespace":"z2m"}`, "unit-101-front"},
		{`{"level":"error","message":"Publish 'set' 'state' to 'unit-101-front' failed: 'Error: ZCL command 0x842e11fffe8a4b2c/11 closuresDoorLock.lockDoor({}, {\"timeout\":10000}) failed (Timeout)'"}`, "unit-101-front"},
		{`{"level":"error","message":"Publish 'get' 'pin_code' to 'floor 1/back door' failed: 'Error: Timeout'"}`, "floor 1/back door"},
		{`{"level":"error","message":"Entity 'unit-102-front' is unknown","namespace":"z2m"}`, "unit-102-front"},
		{`{"level":"warning","message":"Publish 'set' 'state' to 'unit-101-front' failed: 'Error: Timeout'"}`, ""},
		{`{"level":"info","message":"MQTT publish: topic 'zigbee2mqtt/unit-101-front', payload '{\"lock_state\":\"locked\"}'","namespace":"z2m"}`, ""},
		{`{"level":"error","message":"Failed to ping 'unit-101-front' (attempt 1/2, Read 0x842e11fffe8a4b2c/1 genBasic([\"zclVersion\"]) failed (Timeout))"}`, ""},
		{`{"level":"error","message":"Publish 'set' 'state' to 'unit-101-front' went wrong"}`, ""},
		{`{"level":"error","message":"Entity '' is unknown"}`, ""},
		{`{"level":"error","message":"Publish 'set' 'state' to '' failed: 'x'"}`, ""},
		{`{"level":"error","message":"Publish 'set'"}`, ""},
		{`{"level":"error"}`, ""},
		{`{"level":"error","message":42}`, ""},
		{`{"state":"online"}`, ""},
		{`Publish 'set' 'state' to 'unit-101-front' failed`, ""}, // 1.x plain-text log line is not a device error here
		{``, ""},
		{`[]`, ""},
	}
	for _, tt := range tests {
		if got := failedDevice([]byte(tt.payload)); got != tt.want {
			t.Errorf("failedDevice(%s) = %q, want %q", tt.payload, got, tt.want)
		}
	}
}
