// Package notify sends the message outbox: a worker claims due messages
// from the store and hands each to the transport of its channel (SMTP for
// email, a Twilio-compatible HTTP API for SMS, or the dev outbox). Each
// channel has its own senders, so a hung provider holds up only its own
// messages. Temporary failures are retried with a capped backoff, or when
// the provider asks (Retry-After), until a final state: sent, abandoned,
// or expired for a message whose link or code ran out first.
//
// Message bodies carry backup-link tokens, so nothing in this package puts a
// body, a subject or a full recipient into a log line or an error.
package notify

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"sparekey"
)

// Transport sends one message and returns the provider's id for it.
// An error is temporary (the worker retries it later) unless it was wrapped
// with Permanent.
type Transport interface {
	Send(ctx context.Context, m *sparekey.Message) (providerID string, err error)
}

// permanentError marks a failure that no retry can fix, such as a rejected
// recipient.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: the worker abandons the message at once
// instead of retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryLater marks a temporary failure for which the provider said when to
// try again (an HTTP Retry-After).
type retryLater struct {
	err   error
	after time.Duration
}

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// RetryAfter marks a temporary err with the wait the provider asked for:
// the worker retries after d instead of its own backoff. RetryAfter(nil, d)
// is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryLater{err: err, after: max(d, 0)}
}

// retryAfter returns the wait err was marked with by RetryAfter, if any.
func retryAfter(err error) (time.Duration, bool) {
	var r *retryLater
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// redact shortens a recipient so a log line can tell messages apart without
// naming the person: "+1201***0101", "a***@example.com".
func redact(to string) string {
	if to == "" {
		return ""
	}
	if at := strings.LastIndexByte(to, '@'); at > 0 {
		return to[:1] + "***" + to[at:]
	}
	if strings.HasPrefix(to, "+") && len(to) >= 10 {
		return to[:5] + "***" + to[len(to)-4:]
	}
	return "***"
}

// maxErrorLen bounds last_error: provider answers can be long.
const maxErrorLen = 500

// errorText is the text of a send error as stored and logged: providers and
// SMTP servers often echo the recipient, so it is replaced by its redacted
// form, and the text is clipped.
var linkToken = regexp.MustCompile(`/b/[A-Za-z0-9_-]+`)

func errorText(err error, to string) string {
	s := err.Error()
	if to != "" {
		s = strings.ReplaceAll(s, to, redact(to))
	}
	// A provider that quotes the message back would quote a link token.
	s = linkToken.ReplaceAllString(s, "/b/…")
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
	}
	return s
}
