package sim_test

import (
	"log/slog"
	"strings"
	"testing"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

// TestBrokerClosesQuietly: closing the embedded broker logs no warning
// without a message (it used to, once per listener).
func TestBrokerClosesQuietly(t *testing.T) {
	var logs testkit.SyncBuffer
	b, err := sim.StartBroker("127.0.0.1:0", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// A client connected, as the demo's locks and adapter are.
	bridge, err := sim.StartBridge(t.Context(), sim.New(sparekey.SystemClock{}), sim.BridgeConfig{Broker: b.URL(), BaseTopic: "zigbee2mqtt"})
	if err != nil {
		t.Fatal(err)
	}
	defer bridge.Stop()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), `msg=""`) {
		t.Errorf("the broker logged a line without a message:\n%s", logs.String())
	}
}
