package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sparekey/internal/testkit"
)

// comparable drops the Date header, the one header that must differ.
func comparable(r response) string {
	h := r.header.Clone()
	h.Del("Date")
	var keys []string
	for k, v := range h {
		keys = append(keys, k+": "+strings.Join(v, ","))
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n") + "\n\n" + string(r.body) + "\n" + http.StatusText(r.status)
}

// docs/security.md rule 1: the same status, body and headers for a match, no
// match, a phone that is not the account's, a moved-out resident, and an
// account over its limit; rule 11: links never come from the Host header.
func TestGetCodeAnswersAlike(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--ip-limit", "0")
	s.moveOut("chen@example.com", 200)
	ask := func(contact string) response {
		return s.do("POST", "/api/v1/backup-code-requests", `{"contact":`+quote(contact)+`}`,
			"Host", "evil.example", "X-Forwarded-Host", "evil.example")
	}
	for range 3 {
		ask("ana@example.com")
	}
	s.waitMessages("ana@example.com", "backup_link", 3)
	want := comparable(ask("ana@example.com")) // over the per-account limit
	for _, contact := range []string{
		"ben@example.com",    // match
		"nobody@example.org", // no match
		"(201) 555-0177",     // a phone on no account
		"chen@example.com",   // moved out
		"+12015550103",       // moved out, by phone
	} {
		if got := comparable(ask(contact)); got != want {
			t.Errorf("answer for %q differs:\n%s\n--- want ---\n%s", contact, got, want)
		}
	}
	s.waitMessages("ben@example.com", "backup_link", 1)
	time.Sleep(300 * time.Millisecond) // let the job finish the rest of the queue
	if n := len(s.outbox("ana@example.com")); n != 3 {
		t.Errorf("Ana got %d emails, want 3: the 4th request is over the hourly limit", n)
	}
	for _, to := range []string{"chen@example.com", "+12015550103", "nobody@example.org", "+12015550177"} {
		if got := s.outbox(to); len(got) != 0 {
			t.Errorf("%s got %d messages, want none", to, len(got))
		}
	}
	for _, m := range s.outbox("") {
		if strings.Contains(m.Body, "evil.example") {
			t.Fatalf("a link was built from the Host header:\n%s", m.Body)
		}
	}
}

// docs/security.md rule 2 (time must not depend on the account) is tested in
// lockout.TestRequestTimeDoesNotDependOnAccount, where the per-account limit
// can be lifted so that a lookup done inline would show.

// docs/security.md rule 6: the per-IP limit answers 429 with the error shape.
func TestGetCodePerIPLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--ip-limit", "3")
	for range 3 {
		s.requestCode("nobody@example.org")
	}
	r := s.do("POST", "/api/v1/backup-code-requests", `{"contact":"ana@example.com"}`)
	if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), `"code":"rate_limited"`) {
		t.Fatalf("4th request = %d %s, want 429 rate_limited", r.status, r.body)
	}
	s.json("POST", "/api/v1/dev/clock", `{"advance":"61s"}`, 200, nil)
	s.requestCode("ana@example.com")
}

// Dev endpoints exist only with --demo.
func TestNoDevEndpointsWithoutDemo(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server)")
	t.Parallel()
	addr := freeAddr(t)
	db := t.TempDir() + "/s.db"
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	stderr := &testkit.SyncBuffer{}
	go func() {
		errc <- run(ctx, []string{"sparekey", "serve", "--addr", addr, "--db", db}, func(string) string { return "" }, nil, &testkit.SyncBuffer{}, stderr)
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}()
	s := &testServer{t: t, base: "http://" + addr, db: db, stderr: stderr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range []string{"/api/v1/dev/outbox", "/dev/outbox"} {
		if r := s.do("GET", p, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s without --demo = %d", p, r.status)
		}
	}
	if r := s.do("POST", "/api/v1/dev/clock", `{"advance":"31m"}`); r.status != http.StatusNotFound {
		t.Errorf("dev clock without --demo = %d", r.status)
	}
}

func TestServeFlagErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"serve", "--base-url", "not a url"},
		{"serve", "--ip-limit", "-1"},
		{"serve", "--sms-url", "http://127.0.0.1:1"},
		{"serve", "--secret-key", "short"},
		{"serve", "--default-region", "XX"},
		{"serve", "--sms-regions", "US,Mars"},
		{"serve", "--trusted-proxies", "10.0.0.0/8,proxy.example"},
		{"serve", "extra"},
		{"bogus"},
		{},
	} {
		err := run(context.Background(), append([]string{"sparekey"}, args...), func(string) string { return "" }, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{})
		if err == nil {
			t.Errorf("run %v succeeded, want an error", args)
		}
	}
	// The device and cluster flags say which flag is wrong and how, before
	// anything starts.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--mqtt", "ftp://broker"}, "--mqtt"},
		{[]string{"serve", "--mqtt", "no scheme"}, "--mqtt"},
		{[]string{"serve", "--demo", "--mqtt", "mqtt://127.0.0.1:1", "--mqtt-topic", "zigbee2mqtt/#", "--db", t.TempDir() + "/t.db"}, "base topic"},
		{[]string{"serve", "--instance-ttl", "0s"}, "--instance-ttl"},
		{[]string{"serve", "--db", "postgres://db.example/sparekey"}, "--secret-key"},
		{[]string{"simulate", "--locks", "3"}, "--mqtt"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1"}, "--locks"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1", "--locks", "2", "--devices", "a"}, "not both"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1", "--devices", "a/b"}, "device name"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1", "--locks", "2", "--slots", "0"}, "--slots"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1", "--locks", "2", "--watch", "http://127.0.0.1:1"}, "--admin-token"},
		{[]string{"simulate", "--mqtt", "mqtt://127.0.0.1:1", "--locks", "2", "--until-synced"}, "--watch"},
	} {
		err := run(context.Background(), append([]string{"sparekey"}, c.args...), func(string) string { return "" }, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v = %v, want an error naming %s", c.args, err, c.want)
		}
	}
	err := run(context.Background(), []string{"sparekey", "serve", "--db", t.TempDir() + "/x.db"},
		func(k string) string {
			if k == "SPAREKEY_ADDR" {
				return "not-an-address"
			}
			return ""
		}, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Errorf("SPAREKEY_ADDR not used: %v", err)
	}
}

// A database whose key file went missing is refused instead of getting a
// new key that cannot read its codes.
func TestMissingKeyFileIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "r.csv")
	os.WriteFile(csv, []byte("property,unit,lock,name,email,phone\nElm,1,elm-1,Dana Li,dana@example.com,2015550111\n"), 0o600)
	db := filepath.Join(dir, "s.db")
	env := func(string) string { return "" }
	if err := run(context.Background(), []string{"sparekey", "import", "roster", "--db", db, csv}, env, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(db + ".key")
	err := run(context.Background(), []string{"sparekey", "serve", "--db", db, "--addr", freeAddr(t)}, env, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "key file") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("serve without its key file = %v", err)
	}
	if _, err := os.Stat(db + ".key"); err == nil {
		t.Fatal("a new key file was created for an existing database")
	}
	err = run(context.Background(), []string{"sparekey", "serve", "--db", db, "--addr", freeAddr(t), "--secret-key", strings.Repeat("ab", 32)}, env, nil, &testkit.SyncBuffer{}, &testkit.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("serve with another key = %v", err)
	}
}
