package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"sparekey"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "auth-token-xyz"
	testFrom  = "+12015550000"
)

// twilioServer answers like Twilio's Messages API after checking that the
// request is exactly what Twilio expects. answer picks the reply per call.
func twilioServer(t *testing.T, answer func(w http.ResponseWriter)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if want := "/2010-04-01/Accounts/" + testSID + "/Messages.json"; r.URL.Path != want {
			t.Errorf("path = %s, want %s", r.URL.Path, want)
		}
		if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
			t.Errorf("basic auth = %q:%q (%v)", user, pass, ok)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			t.Errorf("body is not a form: %v", err)
		}
		want := url.Values{"To": {"+12015550101"}, "From": {testFrom}, "Body": {smsMessage().Body}}
		if fmt.Sprint(form) != fmt.Sprint(want) {
			t.Errorf("form = %v, want %v", form, want)
		}
		w.Header().Set("Content-Type", "application/json")
		answer(w)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func smsMessage() *sparekey.Message {
	return &sparekey.Message{
		ID:      7,
		Channel: sparekey.ChannelSMS,
		To:      "+12015550101",
		Body:    "Sparekey: your backup code link https://sparekey.test/b/SECRET-TOKEN (30 min)",
		Kind:    "backup_link",
	}
}

func newTestSMS(t *testing.T, baseURL string) *SMS {
	t.Helper()
	s, err := NewSMS(SMSConfig{BaseURL: baseURL, AccountSID: testSID, AuthToken: testToken, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMSSendReturnsSID(t *testing.T) {
	t.Parallel()
	srv := twilioServer(t, func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"account_sid": "`+testSID+`", "body": "…", "from": "`+testFrom+`",
			"sid": "SM1234567890abcdef1234567890abcdef", "status": "queued", "to": "+12015550101"}`)
	})
	id, err := newTestSMS(t, srv.URL+"/").Send(context.Background(), smsMessage())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "SM1234567890abcdef1234567890abcdef" {
		t.Errorf("provider id = %q", id)
	}
}

func TestSMSErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		status    int
		body      string
		permanent bool
		wantText  string
	}{
		{"invalid number", 400, `{"code": 21211, "message": "The 'To' number +12015550101 is not a valid phone number.",
			"more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`, true, "not a valid phone number"},
		{"unavailable", 503, `<html>Service Unavailable</html>`, false, "503"},
		{"rate limited", 429, `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`, false, "Too Many Requests"},
		{"bad credentials", 401, `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`, false, "Authenticate"},
		{"created without sid", 201, `<html>Welcome</html>`, false, "without a message sid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := twilioServer(t, func(w http.ResponseWriter) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := newTestSMS(t, srv.URL).Send(context.Background(), smsMessage())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", IsPermanent(err), tt.permanent, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			for _, secret := range []string{"SECRET-TOKEN", testToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %v", secret, err)
				}
			}
		})
	}
}

func TestSMSNetworkErrorIsTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing answers there now
	_, err := newTestSMS(t, srv.URL).Send(context.Background(), smsMessage())
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
}

func TestNewSMSRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ok := SMSConfig{BaseURL: "https://api.twilio.com", AccountSID: testSID, AuthToken: testToken, From: testFrom}
	for name, mutate := range map[string]func(*SMSConfig){
		"base url": func(c *SMSConfig) { c.BaseURL = "ftp://example.com" },
		"sid":      func(c *SMSConfig) { c.AccountSID = "" },
		"token":    func(c *SMSConfig) { c.AuthToken = "" },
		"from":     func(c *SMSConfig) { c.From = "" },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := NewSMS(cfg); err == nil {
			t.Errorf("%s: NewSMS succeeded", name)
		}
	}
	s, err := NewSMS(SMSConfig{AccountSID: testSID, AuthToken: testToken, From: testFrom})
	if err != nil || !strings.HasPrefix(s.endpoint, "https://api.twilio.com/2010-04-01/Accounts/") {
		t.Errorf("default base URL: %v %+v", err, s)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	const date = "Fri, 02 Jan 2026 03:05:05 GMT"
	for _, tt := range []struct {
		value, date string
		want        time.Duration
		ok          bool
	}{
		{"30", date, 30 * time.Second, true},
		{" 0 ", "", 0, true},
		{"Fri, 02 Jan 2026 03:06:05 GMT", date, time.Minute, true},
		{"Fri, 02 Jan 2026 03:04:05 GMT", date, 0, true}, // already past
		{"99999999999999", date, 24 * time.Hour, true},   // bounded
		{"", date, 0, false},
		{"-5", date, 0, false},
		{"soon", date, 0, false},
	} {
		got, ok := parseRetryAfter(tt.value, tt.date)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q, %q) = %v, %v; want %v, %v", tt.value, tt.date, got, ok, tt.want, tt.ok)
		}
	}
}
