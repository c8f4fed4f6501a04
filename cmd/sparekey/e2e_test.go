package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
)

type testServer struct {
	t      *testing.T
	base   string
	db     string
	stderr *testkit.SyncBuffer
	stop   func() error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs the real program's run() with serve --demo on a free
// port and waits for /healthz.
func startServer(t *testing.T, extra ...string) *testServer {
	t.Helper()
	if pgtest.OnPostgres() {
		extra = append([]string{"--secret-key", strings.Repeat("ab", 32)}, extra...)
	}
	return startServerOn(t, pgtest.DSN(t), extra...)
}

// startServerOn is startServer on a given database file.
func startServerOn(t *testing.T, db string, extra ...string) *testServer {
	t.Helper()
	testkit.SkipShort(t, "the end-to-end test (the real server over HTTP)")
	addr := freeAddr(t)
	args := append([]string{"sparekey", "serve", "--demo", "--addr", addr, "--db", db, "--admin-token", "test-admin-token"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), stdout, stderr)
	}()
	s := &testServer{t: t, base: "http://" + addr, db: db, stderr: stderr}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-errc:
			case <-time.After(15 * time.Second):
				stopErr = fmt.Errorf("server did not stop within 15s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server stop: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-errc:
			t.Fatalf("server exited: %v\n%s", err, stderr)
		default:
		}
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *testServer) do(method, path, body string, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (s *testServer) json(method, path, body string, want int, into any) {
	s.t.Helper()
	r := s.do(method, path, body, "Authorization", "Bearer test-admin-token")
	if r.status != want {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	if into != nil {
		if err := json.Unmarshal(r.body, into); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
		}
	}
}

type outboxMessage struct {
	ID        int64  `json:"id"`
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

func (s *testServer) outbox(to string) []outboxMessage {
	s.t.Helper()
	var msgs []outboxMessage
	s.json("GET", "/api/v1/dev/outbox?to="+url.QueryEscape(to), "", 200, &msgs)
	return msgs
}

// waitMessages polls the dev outbox until to has n messages of kind.
func (s *testServer) waitMessages(to, kind string, n int) []outboxMessage {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []outboxMessage
		for _, m := range s.outbox(to) {
			if m.Kind == kind {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited 10s for %d %s messages to %s, have %d\n%s", n, kind, to, len(got), s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var linkRE = regexp.MustCompile(`/b/([A-Za-z0-9_-]+)`)

func (s *testServer) linkToken(m outboxMessage) string {
	s.t.Helper()
	if !strings.Contains(m.Body, s.base+"/b/") {
		s.t.Fatalf("message %d has no link built from the base URL %s:\n%s", m.ID, s.base, m.Body)
	}
	return linkRE.FindStringSubmatch(m.Body)[1]
}

type revealed struct {
	ExpiresAt string `json:"expires_at"`
	Codes     []struct {
		Lock, Name, Code, Status string
	} `json:"codes"`
}

func (s *testServer) reveal(token string) revealed {
	s.t.Helper()
	var r revealed
	s.json("POST", "/api/v1/backup-links/"+token+"/reveal", "", 200, &r)
	if len(r.Codes) != 1 || r.Codes[0].Code == "" {
		s.t.Fatalf("reveal gave %+v", r)
	}
	return r
}

func (s *testServer) keypad(lock, code string) string {
	s.t.Helper()
	var res struct{ Result, Pattern string }
	s.json("POST", "/api/v1/dev/locks/"+lock+"/keypad", `{"code":"`+code+`"}`, 200, &res)
	return res.Result
}

func (s *testServer) requestCode(contact string) {
	s.t.Helper()
	r := s.do("POST", "/api/v1/backup-code-requests", `{"contact":`+quote(contact)+`}`)
	if r.status != http.StatusAccepted {
		s.t.Fatalf("Get Code %q = %d %s", contact, r.status, r.body)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestContractStory walks the outside contract (docs/api.md) through the real
// program: Ana asks with her phone, both messages arrive, the link reveals
// a code that opens unit-101-front; the link expires after 30 minutes and a
// new request gives a new working link; Ben's code opens unit-102-front
// while it is offline; a phone on no account gets nothing.
func TestContractStory(t *testing.T) { contractStory(t, startServer(t)) }

// TestContractStoryOnPostgres is the same story with --db postgres://.
func TestContractStoryOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	contractStory(t, startServerOn(t, dsn, "--secret-key", strings.Repeat("ab", 32)))
}

func contractStory(t *testing.T, s *testServer) {

	s.requestCode("(201) 555-0101")
	sms := s.waitMessages("+12015550101", "backup_link", 1)
	email := s.waitMessages("ana@example.com", "backup_link", 1)
	token := s.linkToken(sms[0])
	if s.linkToken(email[0]) != token {
		t.Fatal("SMS and email carry different links")
	}
	if sms[0].Channel != "sms" || email[0].Channel != "email" || email[0].Subject == "" {
		t.Fatalf("unexpected messages: %+v %+v", sms[0], email[0])
	}

	page := s.do("GET", "/b/"+token, "")
	if page.status != 200 || !strings.Contains(string(page.body), "Show my code") {
		t.Fatalf("GET link = %d\n%s", page.status, page.body)
	}
	code := s.reveal(token).Codes[0].Code
	if strings.Contains(string(page.body), code) {
		t.Fatal("GET /b/{token} showed the code before the POST")
	}
	if got := s.keypad("unit-101-front", code); got != "unlocked" {
		t.Fatalf("backup code at keypad = %s, want unlocked", got)
	}
	if got := s.keypad("unit-101-front", "907315"); got != "rejected" {
		t.Fatalf("wrong code at keypad = %s, want rejected", got)
	}
	if got := s.keypad("unit-101-front", "482916"); got != "unlocked" {
		t.Fatalf("Ana's access code = %s, want unlocked", got)
	}

	s.json("POST", "/api/v1/dev/clock", `{"advance":"31m"}`, 200, nil)
	if r := s.do("GET", "/b/"+token, ""); r.status != http.StatusGone {
		t.Fatalf("GET expired link = %d, want 410", r.status)
	}
	var e struct{ Error struct{ Code string } }
	s.json("POST", "/api/v1/backup-links/"+token+"/reveal", "", http.StatusGone, &e)
	if e.Error.Code != "link_expired" {
		t.Fatalf("expired reveal code = %q", e.Error.Code)
	}

	s.requestCode("(201) 555-0101")
	sms = s.waitMessages("+12015550101", "backup_link", 2)
	token2 := s.linkToken(sms[0])
	if token2 == token {
		t.Fatal("new request gave the old link")
	}
	code2 := s.reveal(token2).Codes[0].Code
	if code2 == code {
		t.Fatal("a used backup code was issued again")
	}
	if got := s.keypad("unit-101-front", code2); got != "unlocked" {
		t.Fatalf("new backup code = %s, want unlocked", got)
	}
	if got := s.keypad("unit-101-front", code); got == "unlocked" {
		// The used code is rotated off the lock by the reconciler; allow it
		// a moment, then it must be gone.
		time.Sleep(3 * time.Second)
		if got := s.keypad("unit-101-front", code); got != "rejected" {
			t.Fatalf("used backup code still opens the door: %s", got)
		}
	}

	s.json("POST", "/api/v1/dev/locks/unit-102-front/state", `{"online":false}`, 200, nil)
	var lock struct {
		Online bool
		State  string
	}
	s.json("GET", "/api/v1/locks/unit-102-front", "", 200, &lock)
	if lock.Online {
		t.Fatal("unit-102-front still online")
	}
	s.requestCode("ben@example.com")
	ben := s.waitMessages("ben@example.com", "backup_link", 1)
	benCode := s.reveal(s.linkToken(ben[0])).Codes[0].Code
	if got := s.keypad("unit-102-front", benCode); got != "unlocked" {
		t.Fatalf("Ben's backup code on offline lock = %s, want unlocked", got)
	}
	if r := s.do("POST", "/api/v1/locks/unit-102-front/unlock", "", "Authorization", "Bearer test-admin-token"); r.status != http.StatusConflict || !strings.Contains(string(r.body), "lock_offline") {
		t.Fatalf("remote unlock of offline lock = %d %s", r.status, r.body)
	}

	before := len(s.outbox(""))
	s.requestCode("(201) 555-0188")
	s.requestCode("chen@example.com") // processed after the stranger's request
	s.waitMessages("chen@example.com", "backup_link", 1)
	if got := s.outbox("+12015550188"); len(got) != 0 {
		t.Fatalf("a phone on no account got messages: %+v", got)
	}
	if after := len(s.outbox("")); after != before+2 {
		t.Fatalf("outbox grew by %d, want 2 (Chen's SMS and email only)", after-before)
	}

	if r := s.do("GET", "/b/not-a-real-token", ""); r.status != http.StatusNotFound {
		t.Fatalf("unknown token = %d, want 404", r.status)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	logs := s.stderr.String()
	for _, secret := range []string{token, token2, code, code2, benCode} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a token or door code %q", secret)
		}
	}
}
