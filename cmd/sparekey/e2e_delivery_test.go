package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"sparekey/internal/testkit"
)

// inbox is a real SMTP server (emersion/go-smtp) on 127.0.0.1.
type inbox struct {
	mu    sync.Mutex
	mails []string
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{b: b}, nil }

func (b *inbox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.mails...)
}

type inboxSession struct {
	b  *inbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.mails = append(s.b.mails, "RCPT "+strings.Join(s.to, ",")+"\n"+string(data))
	return err
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

func startInbox(t *testing.T) (*inbox, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &inbox{}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return b, ln.Addr().String()
}

// smsProvider speaks the Twilio Messages API and keeps what it was sent.
type smsProvider struct {
	mu   sync.Mutex
	sent []url.Values
}

func (p *smsProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if r.Method != "POST" || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" || !ok || user != "AC123" || pass != "tok" {
		http.Error(w, `{"code":20003,"message":"Authenticate","status":401}`, 401)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	p.mu.Lock()
	p.sent = append(p.sent, r.PostForm)
	n := len(p.sent)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	w.Write([]byte(`{"sid":"SM` + strings.Repeat("0", 31) + string(rune('0'+n%10)) + `","status":"queued"}`))
}

func (p *smsProvider) all() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.sent...)
}

// The real transports, wired by serve: Get Code reaches a real SMTP server
// and an SMS API on the wire, each with a link built from --base-url.
func TestDeliveryOverSMTPAndSMSAPI(t *testing.T) {
	t.Parallel()
	mail, smtpAddr := startInbox(t)
	sms := &smsProvider{}
	api := httptest.NewServer(sms)
	t.Cleanup(api.Close)

	s := startServer(t, "--smtp", "smtp://"+smtpAddr, "--smtp-from", "Maple Court <noreply@maple.example>",
		"--sms-url", api.URL, "--sms-account", "AC123", "--sms-token", "tok", "--sms-from", "+12015550100",
		"--base-url", "https://keys.maple.example")
	s.requestCode("Ana@Example.com")

	deadline := time.Now().Add(10 * time.Second)
	for len(mail.all()) < 1 || len(sms.all()) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("mails %d, sms %d after 10s\n%s", len(mail.all()), len(sms.all()), s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := mail.all()[0]
	for _, want := range []string{"RCPT ana@example.com", "From: \"Maple Court\" <noreply@maple.example>", "Subject: Your backup door code link",
		"https://keys.maple.example/b/", "multipart/alternative", "text/html"} {
		if !strings.Contains(m, want) {
			t.Errorf("email lacks %q:\n%s", want, m)
		}
	}
	got := sms.all()[0]
	if got.Get("To") != "+12015550101" || got.Get("From") != "+12015550100" || !strings.Contains(got.Get("Body"), "https://keys.maple.example/b/") {
		t.Errorf("SMS request %v", got)
	}
	if len(got.Get("Body")) > 160 {
		t.Errorf("SMS is %d characters, more than one segment", len(got.Get("Body")))
	}
	var msgs []outboxMessage
	s.json("GET", "/api/v1/dev/outbox?to=ana%40example.com", "", 200, &msgs)
	if len(msgs) != 1 || msgs[0].Status != "sent" {
		t.Errorf("outbox row after SMTP send: %+v", msgs)
	}
	if bytes.Contains([]byte(s.stderr.String()), []byte("/b/")) {
		t.Error("a link reached the logs")
	}
}

// A provider that hangs holds up only its own channel: with the SMTP relay
// accepting and never answering, the text still goes; with the SMS API
// never answering, the email still goes.
func TestDeliveryWithAHungProvider(t *testing.T) {
	t.Parallel()
	t.Run("SMTP relay", func(t *testing.T) {
		t.Parallel()
		sms := &smsProvider{}
		api := httptest.NewServer(sms)
		t.Cleanup(api.Close)
		s := startServer(t, "--smtp", "smtp://"+hungListener(t), "--smtp-from", "noreply@maple.example",
			"--sms-url", api.URL, "--sms-account", "AC123", "--sms-token", "tok", "--sms-from", "+12015550100")
		s.requestCode(testkit.AnaEmail)
		waitUntil(t, "the text", func() bool { return len(sms.all()) == 1 })
		var msgs []outboxMessage
		s.json("GET", "/api/v1/dev/outbox?to=ana%40example.com", "", 200, &msgs)
		if len(msgs) != 1 || msgs[0].Status != "queued" {
			t.Errorf("the email, held by the relay: %+v", msgs)
		}
	})
	t.Run("SMS API", func(t *testing.T) {
		t.Parallel()
		mail, smtpAddr := startInbox(t)
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so the server notices when the client gives up
			<-r.Context().Done()
		}))
		t.Cleanup(api.Close)
		s := startServer(t, "--smtp", "smtp://"+smtpAddr, "--smtp-from", "noreply@maple.example",
			"--sms-url", api.URL, "--sms-account", "AC123", "--sms-token", "tok", "--sms-from", "+12015550100")
		s.requestCode(testkit.AnaEmail)
		waitUntil(t, "the email", func() bool { return len(mail.all()) == 1 })
		var msgs []outboxMessage
		s.json("GET", "/api/v1/dev/outbox?to="+url.QueryEscape(testkit.AnaPhone), "", 200, &msgs)
		if len(msgs) != 1 || msgs[0].Status != "queued" {
			t.Errorf("the text, held by the API: %+v", msgs)
		}
	})
}

// hungListener accepts connections on loopback and never says a word.
func hungListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
