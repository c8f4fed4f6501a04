package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sparekey"
)

// SMSConfig configures an SMS transport for a Twilio-compatible API.
type SMSConfig struct {
	// BaseURL is the API root. Default "https://api.twilio.com".
	BaseURL string
	// AccountSID and AuthToken are the HTTP Basic credentials; the SID is
	// also part of the request path. Required.
	AccountSID string
	AuthToken  string
	// From is the sending number in E.164. Required.
	From string
	// HTTPClient sends the requests. Default: connect and TLS handshake
	// within 5s, the answer's headers within 10s, the whole request within
	// 15s, so a hung API holds a message briefly and then retries it.
	HTTPClient *http.Client
}

// SMS sends text messages through a Twilio-compatible HTTP API.
type SMS struct {
	endpoint string
	cfg      SMSConfig
}

// NewSMS returns an SMS transport, or an error naming the missing setting.
func NewSMS(cfg SMSConfig) (*SMS, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.twilio.com"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("notify: SMS base URL must be an http or https URL")
	}
	switch {
	case cfg.AccountSID == "":
		return nil, errors.New("notify: SMS account SID is required")
	case cfg.AuthToken == "":
		return nil, errors.New("notify: SMS auth token is required")
	case cfg.From == "":
		return nil, errors.New("notify: SMS from number is required")
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 5 * time.Second
		t.ResponseHeaderTimeout = 10 * time.Second
		cfg.HTTPClient = &http.Client{Transport: t, Timeout: 15 * time.Second}
	}
	endpoint := strings.TrimRight(cfg.BaseURL, "/") +
		"/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	return &SMS{endpoint: endpoint, cfg: cfg}, nil
}

// smsReply holds the fields we read from both the success body
// ({"sid": "SM…", "status": "queued", …}) and the error body
// ({"code": 21211, "message": "…", "more_info": "…", "status": 400}).
type smsReply struct {
	SID     string `json:"sid"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Send posts the message and returns the provider's message SID. 429, 5xx,
// 401 and network errors are temporary, retried when the answer's
// Retry-After says (seconds or an HTTP date) if it does; any other refusal
// is permanent. Errors never contain the body: it holds a backup link.
func (s *SMS) Send(ctx context.Context, m *sparekey.Message) (string, error) {
	form := url.Values{"To": {m.To}, "From": {s.cfg.From}, "Body": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms: %w", err)
	}
	req.SetBasicAuth(s.cfg.AccountSID, s.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("sms: %w", err) // network: temporary
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("sms: reading the answer: %w", err)
	}
	var reply smsReply
	_ = json.Unmarshal(raw, &reply) // a non-JSON answer leaves reply empty

	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if reply.SID == "" {
			// Accepted but unreadable: most likely a wrong base URL pointing at
			// something that is not the provider. Retrying risks a duplicate;
			// calling it sent risks never sending, which is worse.
			return "", fmt.Errorf("sms: provider answered %d without a message sid", resp.StatusCode)
		}
		return reply.SID, nil
	}

	msg := reply.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	err = fmt.Errorf("sms: provider answered %d: %s (code %d)", resp.StatusCode, msg, reply.Code)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500, resp.StatusCode < 400:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), resp.Header.Get("Date")); ok {
			return "", RetryAfter(err, d)
		}
		return "", err
	case resp.StatusCode == http.StatusUnauthorized:
		// Wrong credentials are the account's problem, not the message's:
		// keep retrying while an operator fixes the configuration.
		return "", err
	}
	return "", Permanent(err)
}

// parseRetryAfter reads a Retry-After header: a number of seconds, or an
// HTTP date, taken relative to the answer's own Date when it has one (so a
// skewed clock on either side does not matter) and to now otherwise.
func parseRetryAfter(value, date string) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, maxRetryAfter)) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	now := time.Now()
	if d, err := http.ParseTime(date); err == nil {
		now = d
	}
	return min(max(at.Sub(now), 0), maxRetryAfter*time.Second), true
}

// maxRetryAfter bounds a provider's Retry-After (in seconds): a day, far
// past any link's life, and no overflow.
const maxRetryAfter = 24 * 60 * 60
