package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"sparekey"
)

// received is one mail as the test SMTP server got it.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// mailServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// keeps what it receives and rejects chosen recipients.
type mailServer struct {
	Addr string

	mu     sync.Mutex
	mails  []received
	reject map[string]*smtp.SMTPError // recipient → reply
	user   string                     // when set, AUTH PLAIN with user/pass is required
	pass   string
}

func (s *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{srv: s, conn: c}, nil
}

func (s *mailServer) Mails() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...)
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	user string
	cur  received
}

func (s *mailSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from, User: s.user}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	rej := s.srv.reject[to]
	s.srv.mu.Unlock()
	if rej != nil {
		return rej
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = data
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = received{} }
func (s *mailSession) Logout() error { return nil }

// startMailServer serves SMTP on 127.0.0.1:0. With starttls it offers
// STARTTLS with a self-signed certificate; with implicitTLS it speaks TLS
// from the first byte (smtps).
func startMailServer(t *testing.T, starttls, implicitTLS bool) *mailServer {
	t.Helper()
	ms := &mailServer{reject: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(ms)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if starttls || implicitTLS {
		cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
		if starttls {
			srv.TLSConfig = cfg
		} else {
			l = tls.NewListener(l, cfg)
		}
	}
	ms.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ms
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func emailMessage() *sparekey.Message {
	return &sparekey.Message{
		ID:        42,
		Channel:   sparekey.ChannelEmail,
		To:        "ana@example.com",
		Subject:   "Your backup code link",
		Body:      "Open https://sparekey.test/b/SECRET-TOKEN within 30 minutes.",
		HTML:      `<p>Open <a href="https://sparekey.test/b/SECRET-TOKEN">your link</a>.</p>`,
		Kind:      "backup_link",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func newTestSMTP(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, "Sparekey <noreply@sparekey.test>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSendsMultipartAlternative(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	s := newTestSMTP(t, "smtp://"+ms.Addr)
	m := emailMessage()

	id, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := ms.Mails()
	if len(mails) != 1 {
		t.Fatalf("server got %d mails, want 1", len(mails))
	}
	got := mails[0]
	if got.From != "noreply@sparekey.test" || len(got.To) != 1 || got.To[0] != "ana@example.com" {
		t.Errorf("envelope = %q → %q", got.From, got.To)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(got.Data)))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if from := h.Get("From"); !strings.Contains(from, "<noreply@sparekey.test>") {
		t.Errorf("From = %q", from)
	}
	if to := h.Get("To"); !strings.Contains(to, "ana@example.com") {
		t.Errorf("To = %q", to)
	}
	if subj := h.Get("Subject"); subj != m.Subject {
		t.Errorf("Subject = %q", subj)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if mid := h.Get("Message-Id"); mid == "" || mid != id {
		t.Errorf("Message-ID = %q, provider id = %q", mid, id)
	}

	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		parts[ct] = strings.TrimSpace(string(body))
	}
	if parts["text/plain"] != m.Body {
		t.Errorf("text/plain = %q", parts["text/plain"])
	}
	if parts["text/html"] != m.HTML {
		t.Errorf("text/html = %q", parts["text/html"])
	}
}

func TestSMTPSendsPlainTextWithoutHTML(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	s := newTestSMTP(t, "smtp://"+ms.Addr)
	m := emailMessage()
	m.HTML = ""
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(ms.Mails()[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); ct != "text/plain" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestSMTPRejectionsArePermanentOrTemporary(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	ms.reject["gone@example.com"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	ms.reject["busy@example.com"] = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	s := newTestSMTP(t, "smtp://"+ms.Addr)

	for _, tt := range []struct {
		to        string
		permanent bool
	}{
		{"gone@example.com", true},
		{"busy@example.com", false},
	} {
		m := emailMessage()
		m.To = tt.to
		_, err := s.Send(context.Background(), m)
		if err == nil {
			t.Fatalf("%s: Send succeeded", tt.to)
		}
		if IsPermanent(err) != tt.permanent {
			t.Errorf("%s: IsPermanent = %v, want %v (%v)", tt.to, IsPermanent(err), tt.permanent, err)
		}
		if strings.Contains(err.Error(), "SECRET-TOKEN") {
			t.Errorf("error leaks the body: %v", err)
		}
	}
	if n := len(ms.Mails()); n != 0 {
		t.Errorf("server kept %d mails", n)
	}
}

func TestSMTPConnectionErrorIsTemporary(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := newTestSMTP(t, "smtp://"+addr)
	_, err = s.Send(context.Background(), emailMessage())
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
}

func TestSMTPAuth(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, false)
	ms.user, ms.pass = "mailer", "s3cret"

	s := newTestSMTP(t, "smtp://mailer:s3cret@"+ms.Addr)
	if _, err := s.Send(context.Background(), emailMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if mails := ms.Mails(); len(mails) != 1 || mails[0].User != "mailer" {
		t.Fatalf("mails = %+v", mails)
	}

	// A wrong password is the relay's configuration, not the message: retry.
	bad := newTestSMTP(t, "smtp://mailer:wrong@"+ms.Addr)
	_, err := bad.Send(context.Background(), emailMessage())
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestSMTPUsesSTARTTLSWhenOffered(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, true, false)

	// The certificate is self-signed: checked by default, so sending fails.
	strict := newTestSMTP(t, "smtp://"+ms.Addr)
	if _, err := strict.Send(context.Background(), emailMessage()); err == nil || IsPermanent(err) {
		t.Fatalf("self-signed certificate: err = %v, want a temporary error", err)
	}

	s := newTestSMTP(t, "smtp://"+ms.Addr+"?insecure=1")
	if _, err := s.Send(context.Background(), emailMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if mails := ms.Mails(); len(mails) != 1 || !mails[0].TLS {
		t.Fatalf("mails = %+v, want one over TLS", mails)
	}
}

func TestSMTPS(t *testing.T) {
	t.Parallel()
	ms := startMailServer(t, false, true)
	s := newTestSMTP(t, "smtps://"+ms.Addr+"?insecure=1")
	if _, err := s.Send(context.Background(), emailMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if mails := ms.Mails(); len(mails) != 1 || !mails[0].TLS {
		t.Fatalf("mails = %+v, want one over TLS", mails)
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, from string }{
		{"http://mail.example.com", "a@example.com"},
		{"smtp://", "a@example.com"},
		{"smtp://mail.example.com:99999", "a@example.com"},
		{"smtp://mail.example.com:587?tls=off", "a@example.com"},
		{"smtp://mail.example.com/inbox", "a@example.com"},
		{"smtp://user:pa%zzword@mail.example.com", "a@example.com"},
		{"smtp://mail.example.com", "not an address"},
		{"smtp://mail.example.com", ""},
	} {
		_, err := NewSMTP(tt.url, tt.from)
		if err == nil {
			t.Errorf("NewSMTP(%q, %q) succeeded", tt.url, tt.from)
			continue
		}
		if strings.Contains(err.Error(), "pa%zz") || strings.Contains(err.Error(), "%zzword") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	if _, err := NewSMTP("smtps://u:p@mail.example.com?insecure=1", "Sparekey <a@example.com>"); err != nil {
		t.Errorf("valid URL: %v", err)
	}
}
