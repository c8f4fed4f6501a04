package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"sparekey/device"
)

// --zwave is repeatable and SPAREKEY_ZWAVE a comma-separated list; a bad
// name or URL stops serve before it starts.
func TestZWaveFlag(t *testing.T) {
	env := func(k string) string {
		if k == "SPAREKEY_ZWAVE" {
			return "bldg-a=ws://127.0.0.1:3000, bldg-b=wss://hub-b.example:443"
		}
		return ""
	}
	c, err := parseServe([]string{"--zwave", "bldg-c=ws://10.0.0.7:3000"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.zwave.String(); got != "bldg-a=ws://127.0.0.1:3000,bldg-b=wss://hub-b.example:443,bldg-c=ws://10.0.0.7:3000" {
		t.Fatalf("--zwave = %s", got)
	}
	for _, bad := range []string{"bldg-a", "bldg a=ws://h:1", "h=http://h:1", "h=ws://", "h=ws://a:1,h=ws://b:1"} {
		if _, err := parseServe([]string{"--zwave", bad}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("--zwave %q accepted", bad)
		}
	}
}

// A hub reached over plain ws:// off this machine is warned about: whoever
// reaches zwave-js-server opens the doors.
func TestZWavePlainRemoteWarned(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	hubs := zwaveHubs{"near": "ws://127.0.0.1:3000", "local": "ws://localhost:3000", "tls": "wss://10.0.0.5:443", "far": "ws://10.0.0.5:3000"}
	d, err := newZWave(hubs, nil, nil, device.NewRegistry(), nil, log)
	if err != nil || d == nil {
		t.Fatal(d, err)
	}
	if n := strings.Count(logs.String(), "plain ws://"); n != 1 || !strings.Contains(logs.String(), "hub=far") {
		t.Fatalf("warnings:\n%s", logs.String())
	}
}
