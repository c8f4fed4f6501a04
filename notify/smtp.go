package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"sparekey"
)

// smtpTimeout bounds connecting to the relay and waiting for each of its
// replies: a relay that accepts and never answers fails a send in seconds,
// and the message is retried.
const smtpTimeout = 10 * time.Second

// SMTP sends email through an SMTP relay.
type SMTP struct {
	client *mail.Client
	from   string // the From header as configured, e.g. "Sparekey <noreply@example.com>"
	domain string // the From address's domain, for Message-IDs
}

// NewSMTP returns an SMTP transport for a relay URL:
//
//	smtp://[user:pass@]host[:port]   STARTTLS when the server offers it,
//	                                 plain otherwise; default port 587, then 25
//	smtps://[user:pass@]host[:port]  implicit TLS; default port 465
//
// The query "?insecure=1" skips certificate checks (development only).
// With a user, the transport authenticates with PLAIN or LOGIN, which
// go-mail refuses over an unencrypted connection except to localhost, so a
// password never crosses the network in the clear. from is the From header,
// a bare address or "Name <address>".
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The parse error quotes the URL, or the bad part of it, which may
		// be the password: say only that it is invalid.
		return nil, errors.New("notify: invalid SMTP URL")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("notify: SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("notify: SMTP URL has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("notify: SMTP URL must not have a path")
	}
	insecure := false
	for key, vals := range u.Query() {
		if key != "insecure" {
			return nil, fmt.Errorf("notify: unknown SMTP URL parameter %q", key)
		}
		insecure = vals[0] == "1" || vals[0] == "true"
	}

	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("notify: invalid SMTP from address %q: %v", from, err)
	}
	domain := addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]

	opts := []mail.Option{
		mail.WithTimeout(smtpTimeout),
		mail.WithTLSConfig(&tls.Config{
			ServerName:         host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: insecure, // only with ?insecure=1, for dev relays
		}),
	}
	port := 0
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("notify: invalid SMTP port %q", p)
		}
		opts = append(opts, mail.WithPort(port))
	}
	switch {
	case u.Scheme == "smtps" && port == 0:
		opts = append(opts, mail.WithSSLPort(false))
	case u.Scheme == "smtps":
		opts = append(opts, mail.WithSSL())
	case port == 0:
		// 587 with STARTTLS when offered, falling back to port 25.
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts,
			mail.WithUsername(user), mail.WithPassword(pass),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}

	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: SMTP client: %w", err)
	}
	return &SMTP{client: client, from: from, domain: domain}, nil
}

// Send sends m as one email: plain text, or multipart/alternative with the
// HTML part when m.HTML is set. The provider id is the Message-ID.
func (s *SMTP) Send(ctx context.Context, m *sparekey.Message) (string, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return "", Permanent(fmt.Errorf("smtp: from address: %w", err))
	}
	if err := msg.To(m.To); err != nil {
		return "", Permanent(errors.New("smtp: invalid recipient address"))
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	// Stable across retries of one message, so that a copy sent twice after
	// a crash can be recognised as the same mail; CreatedAt keeps ids apart
	// across databases that reuse row ids (a reset demo).
	id := fmt.Sprintf("sparekey.%d.%d@%s", m.ID, m.CreatedAt.UnixNano(), s.domain)
	msg.SetMessageIDWithValue(id)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}

	// Each send dials its own connection, so sends run in parallel. go-mail
	// heeds ctx only while dialing; after that, a relay gone silent holds
	// the connection until smtpTimeout. Stop waiting when ctx ends: the
	// abandoned attempt ends by itself, and should it still deliver, the
	// retry sends a copy with the same Message-ID (at least once).
	done := make(chan error, 1)
	go func() { done <- s.client.DialAndSendWithContext(ctx, msg) }()
	select {
	case err := <-done:
		if err != nil {
			return "", smtpError(err)
		}
		return "<" + id + ">", nil
	case <-ctx.Done():
		return "", fmt.Errorf("smtp: gave up waiting for the relay: %w", ctx.Err())
	}
}

// smtpError sorts a go-mail error: a 5xx reply to MAIL, RCPT or DATA is
// about this message and permanent. Everything else is temporary: 4xx
// replies, network errors, and failures while connecting (greeting,
// STARTTLS, AUTH) — those concern the relay, not the message, and must not
// abandon every message queued while the relay is misconfigured or down.
func smtpError(err error) error {
	err = fmt.Errorf("smtp: %w", err)
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() <= 599 {
		return Permanent(err)
	}
	return err
}
