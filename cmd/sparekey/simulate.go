package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"sparekey"
	"sparekey/roster"
	"sparekey/sim"
	"sparekey/z2m"
)

// simAreaCodes give the simulated residents fictional phone numbers:
// 555-0100 to 555-0199 in each of these US area codes.
var simAreaCodes = []string{"201", "202", "203", "205", "206", "207", "208", "209", "210", "212",
	"213", "214", "215", "216", "217", "218", "219", "224", "225", "228", "229", "231", "234", "239",
	"240", "248", "251", "252", "253", "254", "256", "260", "262", "267", "269", "270", "276", "281",
	"301", "302", "303", "304", "305", "307", "308", "309", "310", "312", "313", "314"}

// simulate runs virtual Zigbee2MQTT locks against a broker until ctx ends.
func simulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", "", stderr)
	broker := fs.String("mqtt", "", "MQTT broker URL, e.g. mqtt://127.0.0.1:1883 (required)")
	topic := fs.String("mqtt-topic", "zigbee2mqtt", "Zigbee2MQTT base topic to publish under")
	count := fs.Int("locks", 0, "number of virtual locks, named <prefix>0001, <prefix>0002, …")
	prefix := fs.String("prefix", "sim-lock-", "device name prefix of the numbered locks")
	names := fs.String("devices", "", "comma-separated device names to simulate instead of numbered ones (e.g. the demo's unit-101-front,unit-102-front,unit-103-front)")
	slots := fs.Int("slots", roster.DefaultSlotCount, "code slots per lock")
	latency := fs.Duration("latency", 0, "time each command takes to reach a lock, like a Zigbee mesh (e.g. 300ms)")
	rosterFile := fs.String("roster", "", "also write a roster CSV with one unit and resident per lock, for sparekey import roster")
	every := fs.Duration("report", 10*time.Second, "how often to print progress (0: never)")
	watch := fs.String("watch", "", "a Sparekey server's URL: poll its lock list and say when every simulated lock is online and in sync")
	token := fs.String("admin-token", "", "the server's admin token, for --watch")
	untilSynced := fs.Bool("until-synced", false, "with --watch: stop once every lock is online and in sync")
	rest, err := envFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("simulate takes no arguments, got %q", rest)
	}
	if *broker == "" {
		return fmt.Errorf("simulate needs --mqtt, the broker Sparekey's server uses (serve --demo runs its own simulator)")
	}
	if _, err := z2m.BrokerURL(*broker); err != nil {
		return fmt.Errorf("--mqtt: %w", err)
	}
	if *watch != "" && *token == "" {
		return fmt.Errorf("--watch needs --admin-token (or SPAREKEY_ADMIN_TOKEN)")
	}
	if *untilSynced && *watch == "" {
		return fmt.Errorf("--until-synced needs --watch")
	}
	if *slots < 1 || *slots > 250 {
		return fmt.Errorf("--slots must be between 1 and 250")
	}
	var devices []string
	switch {
	case *names != "" && *count != 0:
		return fmt.Errorf("give either --locks or --devices, not both")
	case *names != "":
		for _, n := range strings.Split(*names, ",") {
			if n = strings.TrimSpace(n); n != "" {
				devices = append(devices, n)
			}
		}
	case *count > 0 && *count <= 100000:
		for i := 1; i <= *count; i++ {
			devices = append(devices, fmt.Sprintf("%s%04d", *prefix, i))
		}
	default:
		return fmt.Errorf("--locks must be between 1 and 100000 (or give --devices)")
	}
	for _, d := range devices {
		if !roster.ValidDevice(d) {
			return fmt.Errorf("%q is not a device name (letters, digits, - and _ only)", d)
		}
	}
	if *rosterFile != "" {
		if err := writeSimRoster(*rosterFile, devices); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote a roster of %d units to %s; import it with: sparekey import roster --db DB %s\n", len(devices), *rosterFile, *rosterFile)
	}

	fleet := sim.New(sparekey.SystemClock{})
	for _, d := range devices {
		fleet.Add(d, *slots)
	}
	connectCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	bridge, err := sim.StartBridge(connectCtx, fleet, sim.BridgeConfig{Broker: *broker, BaseTopic: *topic, Latency: *latency,
		ClientID: "sparekey-simulate-" + fmt.Sprint(os.Getpid()),
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	cancel()
	if err != nil {
		return err
	}
	defer bridge.Stop()
	// Virtual locks start empty: tell a running server to program them,
	// after their first state (a server takes a lock's first message as
	// where it stands, not as news).
	select {
	case <-bridge.Announced():
	case <-ctx.Done():
		return nil
	}
	for _, d := range devices {
		if err := fleet.Reset(d); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Simulating %d Zigbee2MQTT locks on %s under %s/<name> (%s … %s). Ctrl-C stops.\n",
		len(devices), *broker, *topic, devices[0], devices[len(devices)-1])

	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	synced := make(chan struct{})
	if *watch != "" {
		go watchServer(ctx, stdout, *watch, *token, devices, synced)
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "Simulator stopped.")
			return nil
		case <-synced:
			if *untilSynced {
				return nil
			}
			synced = nil
		case <-tick:
			withCodes, codes := 0, 0
			for _, d := range devices {
				n := len(fleet.Programmed(d))
				codes += n
				if n > 0 {
					withCodes++
				}
			}
			fmt.Fprintf(stdout, "%s: %d of %d locks have codes, %d codes programmed\n",
				time.Since(start).Round(time.Second), withCodes, len(devices), codes)
		}
	}
}

// watchServer polls the server's lock list every 250 ms and reports when
// every simulated lock is online with no slot left to program, timed from
// the server's first answer.
func watchServer(ctx context.Context, stdout io.Writer, base, token string, devices []string, synced chan<- struct{}) {
	want := make(map[string]bool, len(devices))
	for _, d := range devices {
		want[d] = true
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var first time.Time
	lastLine := time.Now()
	for ctx.Err() == nil {
		online, inSync, err := pollLocks(ctx, client, base, token, want)
		switch {
		case err != nil:
			if time.Since(lastLine) > 10*time.Second {
				fmt.Fprintf(stdout, "watch: %v\n", err)
				lastLine = time.Now()
			}
		default:
			if first.IsZero() {
				first = time.Now()
				fmt.Fprintf(stdout, "watch: %s answers; timing from now\n", base)
			}
			if online == len(want) && inSync == len(want) {
				fmt.Fprintf(stdout, "watch: all %d locks online and in sync %.1fs after the server first answered\n",
					len(want), time.Since(first).Seconds())
				close(synced)
				return
			}
			if time.Since(lastLine) > 5*time.Second {
				fmt.Fprintf(stdout, "watch: %.0fs: %d of %d locks online, %d in sync\n", time.Since(first).Seconds(), online, len(want), inSync)
				lastLine = time.Now()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func pollLocks(ctx context.Context, client *http.Client, base, token string, want map[string]bool) (online, inSync int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/api/v1/locks", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /api/v1/locks: %s", resp.Status)
	}
	var locks []struct {
		Lock         string `json:"lock"`
		Online       bool   `json:"online"`
		SlotsPending int    `json:"slots_pending"`
		SlotsFailed  int    `json:"slots_failed"`
		BackupReady  int    `json:"backup_codes_ready"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&locks); err != nil {
		return 0, 0, fmt.Errorf("GET /api/v1/locks: %w", err)
	}
	for _, l := range locks {
		if !want[l.Lock] || !l.Online {
			continue
		}
		online++
		if l.SlotsPending == 0 && l.SlotsFailed == 0 && l.BackupReady > 0 {
			inSync++
		}
	}
	return online, inSync, nil
}

// writeSimRoster writes one unit and one resident per simulated lock.
func writeSimRoster(path string, devices []string) error {
	if len(devices) > len(simAreaCodes)*100 {
		return fmt.Errorf("--roster: at most %d locks (the simulated residents' fictional phone numbers run out)", len(simAreaCodes)*100)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("--roster: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(roster.Header)
	for i, d := range devices {
		phone := fmt.Sprintf("+1%s55501%02d", simAreaCodes[i/100], i%100)
		_ = w.Write([]string{"Simulated Apartments", fmt.Sprintf("S%04d", i+1), d,
			fmt.Sprintf("Sim Resident %d", i+1), fmt.Sprintf("resident%04d@sim.example.com", i+1), phone})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("--roster: %w", err)
	}
	return f.Close()
}
