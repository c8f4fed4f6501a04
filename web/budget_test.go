package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/locale"
	"sparekey/resident"
	"sparekey/upkeep"
)

// pageBudget is the most a resident page may weigh over the wire: its
// HTML (pictures included, as inline SVG) with the stylesheet and the
// script, each gzip-compressed. A stressed resident outside their door may
// be on one bar of signal. The server itself does not compress (a proxy in
// front may), so the pages are held to the budget uncompressed too.
const pageBudget = 30 << 10

// budgetPages are the resident pages the fakes can reach, as a visitor
// (or Ana, signed in, with her door jammed and its battery low: the
// fullest Home) sees them.
var budgetPages = []struct {
	name, method, path, form string
	signedIn                 bool
	status                   int
}{
	{"home", "GET", "/", "", false, 200},
	{"wizard", "GET", "/support/locked-out", "", false, 200},
	{"wizard_jammed", "GET", "/support/locked-out?step=jammed", "", false, 200},
	{"wizard_code", "GET", "/support/locked-out?step=code", "", false, 200},
	{"wizard_stuck", "GET", "/support/locked-out?step=stuck", "", false, 200},
	{"wizard_cleared", "GET", "/support/locked-out?step=cleared", "", false, 200},
	{"wizard_code, from a link", "GET", "/support/locked-out?step=code&link=good", "", false, 200},
	{"getcode", "GET", "/support/locked-out/code", "", false, 200},
	{"getcode_sent", "POST", "/support/locked-out/code", "contact=" + url.QueryEscape("(201) 555-0101"), false, 202},
	{"link", "GET", "/b/good", "", false, 200},
	{"reveal", "POST", "/b/good", "", false, 200},
	{"link_expired", "GET", "/b/old", "", false, 410},
	{"link_unknown", "GET", "/b/nope", "", false, 404},
	{"report", "GET", "/b/good/maintenance", "", false, 200},
	{"report_sent", "POST", "/b/good/maintenance", "note=stuck", false, 200},
	{"app_signin", "GET", "/app/sign-in", "", false, 200},
	{"app_link", "GET", "/app/sign-in/link/good", "", false, 200},
	{"app_home", "GET", "/app", "", true, 200},
	{"app_access", "GET", "/app/access", "", true, 200},
	{"app_more", "GET", "/app/more", "", true, 200},
	{"app_report", "GET", "/app/maintenance", "", true, 200},
	{"wizard_jammed, signed in", "GET", "/support/locked-out", "", true, 200},
	{"wizard_stuck, signed in", "GET", "/support/locked-out?step=stuck", "", true, 200},
}

// Every resident page, in English and in (longer) Spanish, weighs less
// than pageBudget with its stylesheet and script, and refers to nothing
// on another host.
func TestResidentPagesBudget(t *testing.T) {
	t.Parallel()
	h := newBudgetServer()
	assets, rawAssets := 0, 0
	for _, name := range []string{"static/app.css", "static/app.js"} {
		b, err := fs.ReadFile(staticFS, name)
		if err != nil {
			t.Fatal(err)
		}
		if ref := foreignRef(string(b)); ref != "" {
			t.Errorf("%s refers to another host: %s", name, ref)
		}
		assets += gzipSize(t, b)
		rawAssets += len(b)
	}
	for _, lang := range locale.Tags() {
		for _, p := range budgetPages {
			req := httptest.NewRequest(p.method, p.path, strings.NewReader(p.form))
			req.Header.Set("Accept-Language", lang)
			if p.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if p.signedIn {
				req.AddCookie(&http.Cookie{Name: residentCookie, Value: "ana"})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if rec.Code != p.status || !bytes.Contains(body, []byte(`<html lang="`+lang+`">`)) {
				t.Errorf("%s %s (%s) = %d, want %d in %s:\n%.300s", p.method, p.path, p.name, rec.Code, p.status, lang, body)
				continue
			}
			if ref := foreignRef(string(body)); ref != "" {
				t.Errorf("%s (%s) refers to another host: %s", p.name, lang, ref)
			}
			size, raw := gzipSize(t, body)+assets, len(body)+rawAssets
			if size >= pageBudget || raw >= pageBudget {
				t.Errorf("%s (%s) weighs %d bytes gzipped, %d uncompressed, with app.css and app.js: over the budget of %d",
					p.name, lang, size, raw, pageBudget)
			}
			if testing.Verbose() {
				t.Logf("%-26s %s: %5d bytes gzipped, %5d uncompressed, with app.css and app.js", p.name, lang, size, raw)
			}
		}
	}
}

// The check itself: what counts as a reference to another host.
func TestForeignRef(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`<a href="/support/locked-out?step=code&amp;link=x">`, ""},
		{`<a href="#main">`, ""},
		{`<a href="tel:+12015550199">`, ""},
		{`<img src="data:image/png;base64,AAAA" alt="">`, ""},
		{`<form method="post" action="/b/x">`, ""},
		{`background:url(/static/x.png)`, ""},
		{`<script src="https://cdn.example/x.js"></script>`, "https://cdn.example/x.js"},
		{`<link rel="stylesheet" href="//fonts.example/css">`, "//fonts.example/css"},
		{`<form action='http://evil.example/'>`, "http://evil.example/"},
		{`<img src=https://t.example/p.gif>`, "https://t.example/p.gif"},
		{`<a HREF = "&#47;&#47;evil.example">`, "//evil.example"},
		{`<a href="/\evil.example">`, `/\evil.example`},
		{`<use xlink:href="https://x.example/s.svg#a">`, "https://x.example/s.svg#a"},
		{`<img srcset="/a.png 1x, https://x.example/b.png 2x">`, "/a.png 1x, https://x.example/b.png 2x"},
		{`@import url("https://fonts.example/a.css");`, "https://fonts.example/a.css"},
		{`<a href="javascript:alert(1)">`, "javascript:alert(1)"},
	} {
		if got := foreignRef(tc.doc); got != tc.want {
			t.Errorf("foreignRef(%s) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

// refAttr finds the attributes that make a browser load or go somewhere,
// and CSS's url(): quoted or not, in any case.
var refAttr = regexp.MustCompile(`(?i)(?:\s(?:src|href|action|formaction|srcset|poster|data|xlink:href|background)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))|url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))`)

// foreignRef returns the first reference in doc that could reach another
// host ("" if none): only this host's paths, fragments, data: and tel:
// or mailto: links are allowed.
func foreignRef(doc string) string {
	for _, m := range refAttr.FindAllStringSubmatch(doc, -1) {
		var v string
		for _, g := range m[1:] {
			v += g
		}
		v = strings.TrimSpace(html.UnescapeString(v))
		if !localRef(v) {
			return v
		}
	}
	return ""
}

func localRef(v string) bool {
	if strings.Contains(v, ",") && !strings.HasPrefix(v, "data:") { // srcset: every candidate
		for _, c := range strings.Split(v, ",") {
			if f := strings.Fields(c); len(f) > 0 && !localRef(f[0]) {
				return false
			}
		}
		return true
	}
	switch {
	case strings.Contains(v, `\`):
		return false // browsers read /\host as //host
	case v == "", strings.HasPrefix(v, "#"), strings.HasPrefix(v, "?"):
		return true
	case strings.HasPrefix(v, "/"):
		return !strings.HasPrefix(v, "//")
	}
	for _, scheme := range []string{"data:", "tel:", "mailto:", "sms:"} {
		if strings.HasPrefix(strings.ToLower(v), scheme) {
			return true
		}
	}
	return false
}

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// newBudgetServer is the server with web_test.go's fakes, a resident app
// in which Ana is signed in (cookie "ana"), and maintenance that takes
// reports.
func newBudgetServer() http.Handler {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return NewServer(Config{Clock: sparekey.NewFixedClock(now), Lockout: &fakeLockout{now: now}, Locks: fakeLocks{},
		Upkeep: budgetUpkeep{}, Residents: budgetResidents{now: now}})
}

// budgetUpkeep opens work order 7 for every report.
type budgetUpkeep struct{ fakeUpkeep }

func (budgetUpkeep) Report(ctx context.Context, r upkeep.ResidentReport) (*upkeep.Reported, error) {
	return &upkeep.Reported{WorkOrder: &sparekey.WorkOrder{ID: 7}, Opened: true, Door: "Front door, unit 101", LockName: "Front door", Unit: "101"}, nil
}

// budgetResidents has Ana signed in, her front door jammed a minute ago,
// its battery low, and her code used a few times.
type budgetResidents struct {
	Residents // the methods the pages measured do not call
	now       time.Time
}

var budgetAna = &sparekey.Resident{ID: 1, UnitID: 1, Name: "Ana Ruiz", Email: "ana@example.com", Phone: "+12015550101"}

func (f budgetResidents) Session(ctx context.Context, token string) (*sparekey.Resident, error) {
	if token != "ana" {
		return nil, sparekey.Errorf(sparekey.EUNAUTHORIZED, "Sign in to continue.")
	}
	return budgetAna, nil
}

func (f budgetResidents) CheckLink(ctx context.Context, token string) error { return nil }

func (f budgetResidents) Home(ctx context.Context, residentID int64) (*resident.Home, error) {
	jam := f.now.Add(-time.Minute)
	return &resident.Home{Resident: budgetAna, Unit: &sparekey.Unit{ID: 1, Name: "101"}, Location: time.UTC,
		Property: &sparekey.Property{Name: "Maple Court Apartments", Timezone: "UTC"},
		Doors: []resident.Door{{Lock: &sparekey.Lock{Device: "unit-101-front", Name: "Front door", State: sparekey.LockStateJammed,
			Battery: 12, Online: true, LastSeen: &jam}, Jammed: true, JamAt: &jam, LowBattery: true}}}, nil
}

func (f budgetResidents) AccessCodes(ctx context.Context, residentID int64, reveal bool, v resident.Visit) (*resident.Access, error) {
	a := &resident.Access{Location: time.UTC, Codes: []resident.DoorCode{{Door: "Front door", Synced: true}}}
	for i := range 20 {
		a.Uses = append(a.Uses, resident.Use{At: f.now.Add(-time.Duration(i) * time.Hour), Door: "Front door", How: "access code"})
	}
	return a, nil
}
