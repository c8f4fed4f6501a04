package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/cluster"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

// buildBinary builds the sparekey command once per test, for tests that
// must kill a server the hard way.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sparekey")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs `sparekey serve` as its own process and waits for
// /healthz; stop kills it with SIGKILL, as a crash would.
func startProcess(t *testing.T, bin, addr string, args ...string) *testServer {
	t.Helper()
	stderr := &testkit.SyncBuffer{}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	s := &testServer{t: t, base: "http://" + addr, stderr: stderr}
	s.stop = func() error {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		return nil
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("sparekey serve exited: %v\n%s", err, stderr)
		default:
		}
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sparekey serve not ready after 30s\n%s", stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// instanceIDs picks names for two instances such that each owns at least
// one of the devices and the first owns want.
func instanceIDs(devices []string, want string) (string, string) {
	for i := 0; ; i++ {
		a, b := fmt.Sprintf("instance-a%d", i), fmt.Sprintf("instance-b%d", i)
		owners := map[string]int{}
		for _, d := range devices {
			owners[cluster.Owner([]string{a, b}, d)]++
		}
		if owners[a] > 0 && owners[b] > 0 && cluster.Owner([]string{a, b}, want) == a {
			return a, b
		}
	}
}

// TestTwoInstancesOnePostgresOneBroker runs the contract story against
// two serve processes on one PostgreSQL database and one MQTT broker,
// alternating between them; checks every message went out exactly once and
// the limits hold across both; then kills one with SIGKILL mid-run and
// checks the other finishes its work: the request it had accepted and a
// keypad use on a lock it owned.
func TestTwoInstancesOnePostgresOneBroker(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server)")
	dsn := pgtest.Schema(t)
	bin := buildBinary(t)
	broker, err := sim.StartBroker("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { broker.Close() })
	devices := []string{"unit-101-front", "unit-102-front", "unit-103-front"}
	base := fmt.Sprintf("cluster-%d", time.Now().UnixNano())
	fleet := sim.New(sparekey.SystemClock{})
	for _, d := range devices {
		fleet.Add(d, 30)
	}
	bridge, err := sim.StartBridge(context.Background(), fleet, sim.BridgeConfig{Broker: broker.URL(), BaseTopic: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bridge.Stop)
	mail, smtpAddr := startInbox(t)
	sms := &smsProvider{}
	api := httptest.NewServer(sms)
	t.Cleanup(api.Close)

	idA, idB := instanceIDs(devices, "unit-103-front")
	common := []string{"--demo", "--db", dsn, "--secret-key", strings.Repeat("cd", 32), "--admin-token", "test-admin-token",
		"--mqtt", broker.URL(), "--mqtt-topic", base, "--base-url", "https://keys.example",
		"--smtp", "smtp://" + smtpAddr, "--sms-url", api.URL, "--sms-account", "AC123", "--sms-token", "tok", "--sms-from", "+12015550100",
		"--instance-ttl", "2s", "--ip-limit", "6"}
	a := startProcess(t, bin, freeAddr(t), append(common, "--instance-id", idA, "--mqtt-client-id", "sparekey-test-a-"+base)...)
	b := startProcess(t, bin, freeAddr(t), append(common, "--instance-id", idB, "--mqtt-client-id", "sparekey-test-b-"+base)...)
	for _, d := range devices {
		b.waitLock(d, "first sync", func(l lockJSON) bool { return l.Online && inSync(l) })
	}
	time.Sleep(2 * time.Second) // both have seen each other, and b owns its share

	// The story, alternating instances.
	a.requestCode("(201) 555-0101")
	b.requestCode("ben@example.com")
	anaSMS := b.waitMessages("+12015550101", "backup_link", 1)
	a.waitMessages("ben@example.com", "backup_link", 1)
	code := b.reveal(token(t, anaSMS[0])).Codes[0].Code
	if res, _ := fleet.Keypad("unit-101-front", code); res.Result != sim.KeypadUnlocked {
		t.Fatalf("Ana's backup code at the keypad: %+v", res)
	}
	waitUntil(t, "Ana's used backup code replaced on the lock", func() bool {
		for _, c := range fleet.Programmed("unit-101-front") {
			if c == code {
				return false
			}
		}
		return true
	})
	if got := a.keypadEvents("unit-101-front"); got == 0 {
		t.Fatal("the keypad use is not in the lock's history")
	}

	// Limits hold across both: 3 links an hour for Ana, 6 requests a
	// minute from this address.
	b.requestCode("+1 201 555 0101")
	a.requestCode("ana@example.com")
	b.requestCode("(201) 555-0101") // the fourth for Ana this hour: no link
	a.requestCode("chen@example.com")
	if r := b.do("POST", "/api/v1/backup-code-requests", `{"contact":"chen@example.com"}`); r.status != http.StatusTooManyRequests {
		t.Fatalf("7th request in a minute from one address = %d, want 429", r.status)
	}
	a.waitMessages("chen@example.com", "backup_link", 1)
	time.Sleep(1500 * time.Millisecond) // the job has had its ticks on both
	if n := len(b.waitMessages("+12015550101", "backup_link", 3)); n != 3 {
		t.Fatalf("Ana got %d links by SMS this hour, want 3", n)
	}

	// A dies mid-run: it has just accepted a request, and owns Chen's lock.
	a.json("POST", "/api/v1/dev/clock", `{"advance":"2h"}`, 200, nil) // a new hour: Ana may ask again
	b.json("POST", "/api/v1/dev/clock", `{"advance":"2h"}`, 200, nil)
	before := len(b.outbox("+12015550101"))
	a.requestCode("(201) 555-0101")
	a.stop()
	if res, _ := fleet.Keypad("unit-103-front", "590273"); res.Result != sim.KeypadUnlocked {
		t.Fatalf("Chen's code: %+v", res)
	}
	// Whatever A had claimed is B's once the lease has run out.
	b.json("POST", "/api/v1/dev/clock", `{"advance":"2m"}`, 200, nil)
	waitUntil(t, "the request A accepted answered by B", func() bool { return len(b.outbox("+12015550101")) > before })
	waitUntil(t, "the keypad use on A's lock recorded by B", func() bool { return b.keypadEvents("unit-103-front") > 0 })

	// Every message went out once: as many deliveries as sent rows.
	waitUntil(t, "every message sent", func() bool {
		rows := b.outbox("")
		for _, m := range rows {
			if m.Status != "sent" {
				return false
			}
		}
		return len(mail.all())+len(sms.all()) == len(rows)
	})
	rows := b.outbox("")
	time.Sleep(500 * time.Millisecond) // a late duplicate would show now
	if got := len(mail.all()) + len(sms.all()); got != len(rows) {
		t.Fatalf("%d deliveries for %d messages: something was sent twice", got, len(rows))
	}
	for _, s := range []*testServer{a, b} {
		if strings.Contains(s.stderr.String(), "panic") {
			t.Errorf("%s logged a panic:\n%s", s.base, s.stderr)
		}
	}
}

// TestLocksTakenBackAfterAHeartbeatLapse: an instance whose heartbeat is
// held up for longer than the TTL owns no lock meanwhile (another instance
// may have taken them over), so the adapter keeps the locks' reports for
// whoever did. Nobody did: once its heartbeat gets through again, the
// instance takes its locks back and records what they reported meanwhile.
func TestLocksTakenBackAfterAHeartbeatLapse(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := startServerOn(t, dsn, "--secret-key", strings.Repeat("ab", 32), "--instance-ttl", "1s")
	s.waitLock("unit-103-front", "first sync", inSync)

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	hold, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	// Every heartbeat now waits on this lock, as on a database that does
	// not answer.
	if _, err := hold.ExecContext(ctx, `LOCK TABLE instances IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the TTL: the instance owns nothing
	before := s.keypadEvents("unit-103-front")
	if got := s.keypad("unit-103-front", "590273"); got != string(sim.KeypadUnlocked) {
		t.Fatalf("Chen's code during the lapse: %s", got)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the keypad use during the lapse recorded", func() bool { return s.keypadEvents("unit-103-front") > before })
	if !strings.Contains(s.stderr.String(), "taking this instance's locks back") {
		t.Errorf("no log line says the instance took its locks back:\n%s", s.stderr)
	}
}

func token(t *testing.T, m outboxMessage) string {
	t.Helper()
	match := linkRE.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("message %d has no link:\n%s", m.ID, m.Body)
	}
	return match[1]
}

// keypadEvents counts the lock's recorded keypad unlocks.
func (s *testServer) keypadEvents(device string) int {
	var events []struct{ Kind string }
	s.json("GET", "/api/v1/locks/"+device+"/events?limit=100", "", 200, &events)
	n := 0
	for _, e := range events {
		if e.Kind == string(sparekey.EventKeypadUnlock) {
			n++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
