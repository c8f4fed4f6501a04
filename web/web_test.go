package web

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/contact"
	"sparekey/lockout"
	"sparekey/upkeep"
)

// fakeLockout records requests; the real flow is tested in lockout and
// end to end in cmd/sparekey. It validates contacts with the real parser.
type fakeLockout struct {
	mu       sync.Mutex
	contacts []string
	limited  bool
	now      time.Time
	status   string // of the revealed code; ready when ""
}

func (f *fakeLockout) RequestCode(ctx context.Context, req lockout.CodeRequest) error {
	if _, _, err := contact.Parse(req.Contact, "US"); err != nil {
		return err
	}
	if f.limited {
		return sparekey.Errorf(sparekey.ERATELIMITED, "Too many requests.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.contacts = append(f.contacts, req.Contact)
	return nil
}

func (f *fakeLockout) ViewLink(ctx context.Context, token string, v lockout.Visit) (*lockout.LinkView, error) {
	switch token {
	case "good":
		return &lockout.LinkView{ExpiresAt: f.now.Add(20 * time.Minute), Locks: []string{"Front door"}, FirstName: "Ana"}, nil
	case "old":
		return nil, sparekey.Errorf(sparekey.ELINKEXPIRED, "This link has expired. Ask for a new backup code.") // as lockout says it
	}
	return nil, sparekey.Errorf(sparekey.ELINKNOTFOUND, "unknown")
}

func (f *fakeLockout) RevealLink(ctx context.Context, token string, v lockout.Visit) (*lockout.Reveal, error) {
	if _, err := f.ViewLink(ctx, token, v); err != nil {
		return nil, err
	}
	status := cmp.Or(f.status, lockout.CodeReady)
	return &lockout.Reveal{ExpiresAt: f.now.Add(20 * time.Minute), FirstName: "Ana",
		Codes: []lockout.BackupCode{{Lock: "unit-101-front", Name: "Front door", Code: "84937261", Status: status}}}, nil
}

func (f *fakeLockout) LinkHolder(ctx context.Context, token string, v lockout.Visit) (int64, error) {
	if _, err := f.ViewLink(ctx, token, v); err != nil {
		return 0, err
	}
	return 1, nil
}

func (f *fakeLockout) Contacts(ctx context.Context) ([]lockout.Help, error) {
	return []lockout.Help{{Property: "Maple Court", Phone: "(201) 555-0199", Dial: "+12015550199"}}, nil
}

// fakeUpkeep has one resolved work order; the real thing is tested in
// upkeep and end to end in cmd/sparekey.
type fakeUpkeep struct{ Upkeep }

func (fakeUpkeep) WorkOrders(ctx context.Context, f sparekey.WorkOrderFilter) ([]upkeep.Listed, error) {
	if f.Status != "" && f.Status != sparekey.WorkOrderResolved {
		return nil, nil
	}
	return []upkeep.Listed{{WorkOrder: &sparekey.WorkOrder{ID: 1, Kind: sparekey.WorkOrderLockJam, Status: sparekey.WorkOrderResolved},
		Lock: "unit-101-front", Door: "Front door", Unit: "101"}}, nil
}

type fakeLocks struct{}

func (fakeLocks) LockInfo(ctx context.Context, device string) (*access.LockInfo, error) {
	if device != "unit-101-front" {
		return nil, sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", device)
	}
	return &access.LockInfo{Unit: "101", Lock: &sparekey.Lock{Device: device, Name: "Front door", State: sparekey.LockStateLocked, Online: true, Battery: 90}}, nil
}

func (f fakeLocks) Locks(ctx context.Context) ([]*access.LockInfo, error) {
	info, err := f.LockInfo(ctx, "unit-101-front")
	return []*access.LockInfo{info}, err
}

func (fakeLocks) LockEvents(ctx context.Context, device string, limit int) ([]*sparekey.LockEvent, error) {
	return []*sparekey.LockEvent{{Kind: sparekey.EventKeypadUnlock, Slot: 3, Detail: "keypad, access code of Ana Ruiz"}}, nil
}

func (fakeLocks) Operate(ctx context.Context, device string, unlock bool, actor string) error {
	return sparekey.Errorf(sparekey.ELOCKOFFLINE, "offline")
}

func newTestServer(t *testing.T, dev *Dev) (*httptest.Server, *fakeLockout) {
	t.Helper()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	fl := &fakeLockout{now: now}
	srv := httptest.NewServer(NewServer(Config{Clock: sparekey.NewFixedClock(now), Lockout: fl, Locks: fakeLocks{},
		Upkeep: fakeUpkeep{}, Dev: dev, AdminToken: "secret-admin"}))
	t.Cleanup(srv.Close)
	return srv, fl
}

func send(t *testing.T, srv *httptest.Server, method, path, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Rule 4: exactly one scalar contact.
func TestBackupCodeRequestBody(t *testing.T) {
	t.Parallel()
	srv, fl := newTestServer(t, nil)
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"contact":"(201) 555-0101"}`, 202, ""},
		{`{"contact":"ana@example.com"}`, 202, ""},
		{`{"contact":"nobody@example.org"}`, 202, ""},
		{`{"contact":"hello"}`, 400, "invalid_contact"},
		{`{"contact":""}`, 400, "invalid_contact"},
		{`{"contact":["ana@example.com","ben@example.com"]}`, 400, "invalid_contact"},
		{`{"contact":{"email":"ana@example.com"}}`, 400, "invalid_contact"},
		{`{"contact":2015550101}`, 400, "invalid_contact"},
		{`{"contact":null}`, 400, "invalid_contact"},
		{`{"contact":true}`, 400, "invalid_contact"},
		{`{"contact":"ana@example.com","contact":"ben@example.com"}`, 400, "invalid_request"},
		{`{"contact":"ana@example.com","extra":1}`, 400, "invalid_request"},
		{`{}`, 400, "invalid_contact"},
		{`[]`, 400, "invalid_request"},
		{`"ana@example.com"`, 400, "invalid_request"},
		{``, 400, "invalid_request"},
		{`{"contact":"ana@example.com"} {"contact":"x"}`, 400, "invalid_request"},
		{`{"contact":"` + strings.Repeat("a", 250) + `@example.com"}`, 400, "invalid_contact"},
		{`{"contact":"` + strings.Repeat("a", 20000) + `"}`, 413, "too_large"},
		{`{"contact":"ana@example.com"`, 400, "invalid_request"},
	} {
		resp, body := send(t, srv, "POST", "/api/v1/backup-code-requests", "application/json", tc.body)
		if resp.StatusCode != tc.status || tc.code != "" && !strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("body %.60q: got %d %s, want %d %s", tc.body, resp.StatusCode, body, tc.status, tc.code)
		}
		if tc.status == 202 && body != string(acceptedBody) {
			t.Errorf("202 body differs: %s", body)
		}
	}
	if len(fl.contacts) != 3 {
		t.Errorf("service got %d requests, want 3", len(fl.contacts))
	}
}

func TestBackupCodeRequestRateLimited(t *testing.T) {
	t.Parallel()
	srv, fl := newTestServer(t, nil)
	fl.limited = true
	resp, body := send(t, srv, "POST", "/api/v1/backup-code-requests", "application/json", `{"contact":"ana@example.com"}`)
	if resp.StatusCode != 429 || !strings.Contains(body, "rate_limited") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/support/locked-out/code", "application/x-www-form-urlencoded", "contact=ana%40example.com")
	if resp.StatusCode != 429 || !strings.Contains(body, "Too many requests") {
		t.Fatalf("form got %d %s", resp.StatusCode, body)
	}
}

func TestGetCodeForm(t *testing.T) {
	t.Parallel()
	srv, fl := newTestServer(t, nil)
	form := "application/x-www-form-urlencoded"
	resp, body := send(t, srv, "POST", "/support/locked-out/code", form, "contact="+url.QueryEscape("(201) 555-0101"))
	if resp.StatusCode != 202 || !strings.Contains(body, "Check your phone and email") || !strings.Contains(body, "30 minutes") {
		t.Fatalf("good form: %d\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/support/locked-out/code", form, "contact=a%40example.com&contact=b%40example.com")
	if resp.StatusCode != 400 || !strings.Contains(body, "one email address or phone number") {
		t.Fatalf("repeated field: %d\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/support/locked-out/code", form, "contact=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if resp.StatusCode != 400 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("bad contact must re-show the form, escaped: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = send(t, srv, "POST", "/support/locked-out/code", form, "")
	if resp.StatusCode != 400 {
		t.Fatalf("no field: %d", resp.StatusCode)
	}
	if len(fl.contacts) != 1 {
		t.Fatalf("service got %v", fl.contacts)
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//`)

// Rule 10: every page sends no-store, no-referrer and a strict CSP, and
// refers to nothing on another host; the link page shows no code.
func TestPagesHeadersAndNoThirdParty(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/", 200, "locked out"},
		{"GET", "/support/locked-out", 200, "1 3 5 7 9"},
		{"GET", "/support/locked-out?step=jammed", 200, "Push or pull the door"},
		{"GET", "/support/locked-out?step=code", 200, "60 seconds"},
		{"GET", "/support/locked-out?step=stuck", 200, `12015550199">(201) 555-0199</a>`},
		{"GET", "/support/locked-out?step=cleared", 200, "in"},
		{"GET", "/support/locked-out/code", 200, "Get Code"},
		{"GET", "/b/good", 200, "Show my code"},
		{"POST", "/b/good", 200, "84937261"},
		{"GET", "/b/old", 410, "expired"},
		{"POST", "/b/old", 410, "expired"},
		{"GET", "/b/nope", 404, "Link not found"},
		{"GET", "/healthz", 200, "ok"},
	} {
		resp, body := send(t, srv, tc.method, tc.path, "", "")
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s = %d, want %d containing %q\n%s", tc.method, tc.path, resp.StatusCode, tc.status, tc.want, body)
		}
		h := resp.Header
		if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s %s: missing security headers: %v", tc.method, tc.path, h)
		}
		if externalRef.MatchString(body) {
			t.Errorf("%s %s refers to another host: %s", tc.method, tc.path, externalRef.FindString(body))
		}
		if tc.method == "GET" && strings.Contains(body, "84937261") {
			t.Errorf("GET %s shows a code", tc.path)
		}
	}
}

func TestStaffAPINeedsToken(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	for _, auth := range []string{"", "Bearer wrong", "secret-admin", "Basic secret-admin"} {
		resp, body := send(t, srv, "GET", "/api/v1/locks/unit-101-front", "", "", "Authorization", auth)
		if resp.StatusCode != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, body)
		}
	}
	resp, body := send(t, srv, "GET", "/api/v1/locks/unit-101-front", "", "", "Authorization", "Bearer secret-admin")
	if resp.StatusCode != 200 || !strings.Contains(body, `"state":"locked"`) || !strings.Contains(body, `"battery":90`) {
		t.Fatalf("lock: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "GET", "/api/v1/locks/nope", "", "", "Authorization", "Bearer secret-admin")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("unknown lock: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/api/v1/locks/unit-101-front/unlock", "", "", "Authorization", "Bearer secret-admin")
	if resp.StatusCode != 409 || !strings.Contains(body, `"code":"lock_offline"`) {
		t.Fatalf("offline unlock: %d %s", resp.StatusCode, body)
	}
}

func TestDevRoutesOnlyInDemo(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	for _, p := range []struct{ method, path string }{
		{"GET", "/api/v1/dev/outbox"}, {"GET", "/dev/outbox"}, {"POST", "/api/v1/dev/clock"},
		{"POST", "/api/v1/dev/locks/unit-101-front/keypad"}, {"POST", "/api/v1/dev/locks/unit-101-front/state"},
	} {
		resp, _ := send(t, srv, p.method, p.path, "application/json", `{}`)
		if resp.StatusCode != 404 {
			t.Errorf("%s %s without --demo = %d, want 404", p.method, p.path, resp.StatusCode)
		}
	}
}

func TestDevClockAndBadInput(t *testing.T) {
	t.Parallel()
	clock := sparekey.NewFixedClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	advanced := 0
	dev := &Dev{Clock: clock, Advanced: func(context.Context) error { advanced++; return nil },
		Keypad: func(device, code string) (KeypadResult, error) {
			return KeypadResult{Result: "jammed", Pattern: "x-odd"}, nil
		},
		SetState: func(device string, jammed, online *bool, battery *int) error {
			if battery != nil && *battery > 100 {
				return sparekey.Errorf(sparekey.EINVALID, "battery must be 0 to 100")
			}
			return nil
		}}
	srv, _ := newTestServer(t, dev)
	resp, body := send(t, srv, "POST", "/api/v1/dev/clock", "application/json", `{"advance":"31m"}`)
	if resp.StatusCode != 200 || !clock.Now().Equal(time.Date(2026, 11, 26, 12, 31, 0, 0, time.UTC)) || advanced != 1 {
		t.Fatalf("clock: %d %s now=%v", resp.StatusCode, body, clock.Now())
	}
	for _, bad := range []string{`{"advance":"soon"}`, `{"advance":"-5m"}`, `{"advance":5}`, `{"later":"5m"}`, `nope`, `{"advance":"1000000h"}`} {
		resp, body := send(t, srv, "POST", "/api/v1/dev/clock", "application/json", bad)
		if resp.StatusCode != 400 || !strings.Contains(body, "invalid_request") {
			t.Errorf("clock %s: %d %s", bad, resp.StatusCode, body)
		}
	}
	resp, body = send(t, srv, "POST", "/api/v1/dev/locks/unit-101-front/keypad", "application/json", `{"code":"123"}`)
	if resp.StatusCode != 200 || body != `{"result":"jammed","pattern":"x-odd"}`+"\n" {
		t.Fatalf("keypad: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/api/v1/dev/locks/unit-101-front/state", "application/json", `{"battery":500}`)
	if resp.StatusCode != 400 {
		t.Fatalf("battery 500: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/api/v1/dev/locks/unit-101-front/state", "application/json", `{"jammed":"yes"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "jammed") {
		t.Fatalf("jammed yes: %d %s", resp.StatusCode, body)
	}
}

func TestUnknownAPIRouteIsJSON(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp, body := send(t, srv, "GET", "/api/v1/nothing", "", "")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// Rule 16: no body of any shape panics the server.
func FuzzBackupCodeRequest(f *testing.F) {
	for _, s := range []string{`{"contact":"ana@example.com"}`, `{"contact":["a"]}`, `{"contact":1}`, `{`, `[]`, ``, `{"contact":"\u0000"}`} {
		f.Add(s)
	}
	h := NewServer(Config{Clock: sparekey.SystemClock{}, Lockout: &fakeLockout{}, Locks: fakeLocks{}})
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/backup-code-requests", strings.NewReader(body)))
		switch rec.Code {
		case 202:
			if rec.Body.String() != string(acceptedBody) {
				t.Fatalf("202 with another body: %s", rec.Body)
			}
		case 400, 413:
			if !strings.Contains(rec.Body.String(), `"error":{"code":"`) {
				t.Fatalf("400 without error shape: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

func TestLinkify(t *testing.T) {
	got := string(linkify("Open http://127.0.0.1:8080/b/abc_-1 now <script>"))
	want := `Open <a href="http://127.0.0.1:8080/b/abc_-1">http://127.0.0.1:8080/b/abc_-1</a> now &lt;script&gt;`
	if got != want {
		t.Fatalf("linkify = %s", got)
	}
}

func TestClientIP(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"203.0.113.7:5555", "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
		{"garbage", "garbage"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if got := clientIP(r); got != tc.want {
			t.Errorf("clientIP(%s) = %s, want %s", tc.remote, got, tc.want)
		}
	}
}

// A browser on another site cannot make its visitors post Get Code (or any
// other state change) here; API clients without browser headers can.
func TestCrossSitePostsRefused(t *testing.T) {
	t.Parallel()
	srv, fl := newTestServer(t, nil)
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		resp, body := send(t, srv, "POST", "/api/v1/backup-code-requests", "application/json", `{"contact":"ana@example.com"}`, h...)
		if resp.StatusCode != 403 || !strings.Contains(body, `"code":"forbidden"`) {
			t.Errorf("%v: %d %s", h, resp.StatusCode, body)
		}
		resp, _ = send(t, srv, "POST", "/support/locked-out/code", "application/x-www-form-urlencoded", "contact=ana%40example.com", h...)
		if resp.StatusCode != 403 {
			t.Errorf("form %v: %d", h, resp.StatusCode)
		}
	}
	resp, _ := send(t, srv, "POST", "/support/locked-out/code", "application/x-www-form-urlencoded", "contact=ana%40example.com", "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != 202 {
		t.Errorf("same-origin form: %d", resp.StatusCode)
	}
	if len(fl.contacts) != 1 {
		t.Errorf("service got %v, want only the same-origin request", fl.contacts)
	}
}

func TestLinkEndpointsAreLimited(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	for i := range 30 {
		if resp, _ := send(t, srv, "GET", "/b/nope", "", ""); resp.StatusCode != 404 {
			t.Fatalf("look %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := send(t, srv, "GET", "/b/good", "", "")
	if resp.StatusCode != 429 || !strings.Contains(body, "Too many tries") {
		t.Fatalf("31st look: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/api/v1/backup-links/good/reveal", "", "")
	if resp.StatusCode != 429 || !strings.Contains(body, `"code":"rate_limited"`) {
		t.Fatalf("reveal over the limit: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, srv, "GET", "/support/locked-out", "", ""); resp.StatusCode != 200 {
		t.Fatalf("other pages limited too: %d", resp.StatusCode)
	}
}

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]bool{"https://keys.example": true, "http://127.0.0.1:8080": false} {
		h := NewServer(Config{Clock: sparekey.SystemClock{}, Lockout: &fakeLockout{}, Locks: fakeLocks{}, BaseURL: base})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/support/locked-out", nil))
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != want {
			t.Errorf("%s: HSTS %v, want %v", base, got, want)
		}
	}
}

func TestAPINotFoundDoesNotEchoThePath(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp, body := send(t, srv, "GET", "/api/v1/backup-links/SECRETTOKENVALUE/reveal", "", "")
	if resp.StatusCode != 405 || strings.Contains(body, "SECRETTOKENVALUE") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestAPIWrongMethod: an API route called with a method it does not take
// is 405 with Allow, not 404; a path no route has stays 404, and so do the
// dev routes without --demo.
func TestAPIWrongMethod(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp, body := send(t, srv, "GET", "/api/v1/backup-code-requests", "", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" ||
		!strings.Contains(body, `{"error":{"code":"method_not_allowed","message":"This API route does not take GET; use POST."}}`) {
		t.Errorf("GET of a POST route = %d, Allow %q: %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	if resp, body := send(t, srv, "DELETE", "/api/v1/nothing-here", "", ""); resp.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
		t.Errorf("unknown API path = %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, srv, "GET", "/api/v1/dev/clock", "", ""); resp.StatusCode != 404 {
		t.Errorf("GET of a dev route without --demo = %d, want 404", resp.StatusCode)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp, body := send(t, srv, "GET", "/nowhere", "", "")
	if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") || !strings.Contains(body, "/support/locked-out") {
		t.Errorf("unknown page: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "GET", "/static/", "", "")
	if resp.StatusCode != 404 || strings.Contains(body, `<a href="app.css">`) {
		t.Errorf("static listing: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, srv, "GET", "/static/app.css", "", ""); resp.StatusCode != 200 {
		t.Errorf("stylesheet: %d", resp.StatusCode)
	}
	resp, body = send(t, srv, "GET", "/api/v1/dev/outbox", "", "")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("dev API without demo: %d %s", resp.StatusCode, body)
	}
}

func TestWorkOrdersRoute(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	if resp, _ := send(t, srv, "GET", "/api/v1/work-orders?status=open", "", ""); resp.StatusCode != 401 {
		t.Errorf("without token: %d", resp.StatusCode)
	}
	resp, body := send(t, srv, "GET", "/api/v1/work-orders?status=open", "", "", "Authorization", "Bearer secret-admin")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("open work orders: %d %s", resp.StatusCode, body)
	}
	// "all", as the console's filter says it, is every status.
	for _, q := range []string{"", "?status=all", "?status=resolved"} {
		resp, body = send(t, srv, "GET", "/api/v1/work-orders"+q, "", "", "Authorization", "Bearer secret-admin")
		if resp.StatusCode != 200 || !strings.Contains(body, `"id":1`) {
			t.Errorf("work orders%s: %d %s", q, resp.StatusCode, body)
		}
	}
	resp, body = send(t, srv, "GET", "/api/v1/work-orders?status=bogus", "", "", "Authorization", "Bearer secret-admin")
	if resp.StatusCode != 400 || !strings.Contains(body, "invalid_request") {
		t.Errorf("bad status: %d %s", resp.StatusCode, body)
	}
}

func TestClientIPFromTrustedProxy(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	var got string
	h := fromProxy(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientIP(r) }))
	for _, tc := range []struct{ remote, xff, want string }{
		{"10.1.2.3:5000", "198.51.100.9", "198.51.100.9"},
		{"10.1.2.3:5000", "1.2.3.4, 198.51.100.9, 10.9.9.9", "198.51.100.9"}, // the client's claim and a second proxy
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
		{"203.0.113.7:5000", "198.51.100.9", "203.0.113.7"}, // not a trusted proxy: header ignored
		{"10.1.2.3:5000", "2001:db8:1:2::99", "2001:db8:1:2::/64"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// A code the lock is getting back (it lost its codes) is shown, with word
// that it may need a minute, not as ready and not hidden.
func TestRevealPageCodeBeingProgrammed(t *testing.T) {
	srv, fl := newTestServer(t, nil)
	fl.status = lockout.CodeProgramming
	resp, body := send(t, srv, "POST", "/b/good", "application/x-www-form-urlencoded", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "84937261") || !strings.Contains(body, "being put back on the lock") ||
		strings.Contains(body, "Enter the digits on the keypad, then press") {
		t.Fatalf("reveal page for a code being programmed = %d\n%s", resp.StatusCode, body)
	}
}
