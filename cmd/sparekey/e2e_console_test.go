package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
)

// End-to-end tests of the staff console and the staff API's authorization
// (docs/security.md rule 15): sessions, CSRF, per-property access.

// noRedirects answers a redirect itself, so tests see the 303 and its
// cookies; Go's client would follow it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

const formType = "application/x-www-form-urlencoded"

// send is do without following redirects and with the content type given
// ("" for none). header holds name, value pairs.
func (s *testServer) send(method, path, contentType, body string, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func cookieNamed(r response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token in a page's forms.
func csrfOf(t *testing.T, r response) string {
	t.Helper()
	m := csrfRE.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no csrf field in the page (%d):\n%s", r.status, r.body)
	}
	return string(m[1])
}

// errorCode is the code of a JSON error answer.
func errorCode(r response) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// staffSession is a signed-in console user: the sk_staff cookie and the
// CSRF token of the session's forms.
type staffSession struct {
	s      *testServer
	email  string
	cookie string
	csrf   string
}

// signInAttempt fills the sign-in form as a browser does: GET it for the
// sk_pre cookie and its csrf field, then POST it with that cookie.
func (s *testServer) signInAttempt(email, password, next string) response {
	s.t.Helper()
	form := s.send("GET", "/console/sign-in", "", "")
	pre := cookieNamed(form, "sk_pre")
	if form.status != http.StatusOK || pre == nil {
		s.t.Fatalf("sign-in page = %d, sk_pre %v\n%s", form.status, pre, form.body)
	}
	body := url.Values{"email": {email}, "password": {password}, "csrf": {csrfOf(s.t, form)}, "next": {next}}
	return s.send("POST", "/console/sign-in", formType, body.Encode(), "Cookie", "sk_pre="+pre.Value)
}

// signIn signs a staff member in and fails the test if that does not work.
func (s *testServer) signIn(email, password string) *staffSession {
	s.t.Helper()
	r := s.signInAttempt(email, password, "/console/work-orders")
	c := cookieNamed(r, "sk_staff")
	if r.status != http.StatusSeeOther || c == nil || c.Value == "" {
		s.t.Fatalf("sign in as %s = %d, cookie %v\n%s", email, r.status, c, r.body)
	}
	st := &staffSession{s: s, email: email, cookie: c.Value}
	page := st.get("/console/work-orders")
	if page.status != http.StatusOK {
		s.t.Fatalf("work orders after signing in as %s = %d\n%s", email, page.status, page.body)
	}
	st.csrf = csrfOf(s.t, page)
	return st
}

func (st *staffSession) get(path string) response {
	st.s.t.Helper()
	return st.s.send("GET", path, "", "", "Cookie", "sk_staff="+st.cookie)
}

// postForm posts a form as it is, with the session's cookie.
func (st *staffSession) postForm(path string, form url.Values, header ...string) response {
	st.s.t.Helper()
	return st.s.send("POST", path, formType, form.Encode(), append([]string{"Cookie", "sk_staff=" + st.cookie}, header...)...)
}

// submit posts a console form (name, value pairs) with the session's CSRF
// token, as the page would.
func (st *staffSession) submit(path string, kv ...string) response {
	st.s.t.Helper()
	form := url.Values{"csrf": {st.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return st.postForm(path, form)
}

// api calls the JSON API with the session's cookie, and the X-CSRF-Token
// header when csrf is not "".
func (st *staffSession) api(method, path, body, csrf string, header ...string) response {
	st.s.t.Helper()
	h := append([]string{"Cookie", "sk_staff=" + st.cookie}, header...)
	if csrf != "" {
		h = append(h, "X-CSRF-Token", csrf)
	}
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return st.s.send(method, path, ct, body, h...)
}

// cli runs a sparekey command on the server's database (with the server's
// key on PostgreSQL): words are the command, then flags and arguments.
func (s *testServer) cli(stdin string, words []string, rest ...string) (stdout, stderr string, err error) {
	s.t.Helper()
	args := append([]string{"sparekey"}, words...)
	args = append(args, "--db", s.db)
	if pgtest.OnPostgres() {
		args = append(args, "--secret-key", strings.Repeat("ab", 32))
	}
	args = append(args, rest...)
	out, errOut := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	err = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), out, errOut)
	return out.String(), errOut.String(), err
}

// The second property of the authorization tests, with its own lock,
// resident and maintenance account.
const (
	elmProperty = "Elm Street Lofts"
	elmLock     = "elm-1-front"
	elmEmail    = "elm-maintenance@example.com"
	elmPassword = "elm-street-password"
)

// addElmStreet imports a second property into the running demo's database
// and adds a maintenance account that works for it only.
func (s *testServer) addElmStreet() {
	s.t.Helper()
	csv := filepath.Join(s.t.TempDir(), "elm.csv")
	if err := os.WriteFile(csv, []byte("property,unit,lock,name,email,phone\n"+
		elmProperty+",1,"+elmLock+",Dana Li,dana@example.com,2015550111\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if out, errOut, err := s.cli("", []string{"import", "roster"}, csv); err != nil {
		s.t.Fatalf("import roster: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := s.cli(elmPassword+"\n", []string{"staff", "add"},
		"--email", elmEmail, "--name", "Elm Fixer", "--role", "maintenance", "--property", elmProperty); err != nil {
		s.t.Fatalf("staff add: %v\n%s%s", err, out, errOut)
	}
}

// route is a route of web/routes.go and the middleware that guards it.
type route struct {
	method, pattern, guard string
}

var routeRE = regexp.MustCompile(`mux\.Handle\("(GET|POST|PUT|PATCH|DELETE) ([^"]+)", (\w+)\(`)

// routes reads every route from web/routes.go, so a route added later is
// tested without anyone remembering to list it here.
func routes(t *testing.T) []route {
	t.Helper()
	src, err := os.ReadFile("../../web/routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []route
	for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
		out = append(out, route{m[1], m[2], m[3]})
	}
	if len(out) < 30 {
		t.Fatalf("found only %d routes in web/routes.go: has its form changed?", len(out))
	}
	return out
}

// path fills a route pattern with values that exist in the demo.
func (r route) path() string {
	return strings.NewReplacer("{id}", "1", "{lock}", "unit-101-front", "{$}", "").Replace(r.pattern)
}

// snapshot is what the admin API says about every work order, for tests
// that check a refused request changed nothing.
func (s *testServer) snapshot() string {
	s.t.Helper()
	var b strings.Builder
	r := s.do("GET", "/api/v1/work-orders", "", "Authorization", staffAuth)
	b.Write(r.body)
	var orders []workOrderJSON
	json.Unmarshal(r.body, &orders)
	for _, o := range orders {
		b.Write(s.do("GET", "/api/v1/work-orders/"+jsonID(o.ID), "", "Authorization", staffAuth).body)
	}
	return b.String()
}

// TestConsoleNeedsSessionOrToken: every console page sends a visitor
// without a session to the sign-in page (the admin token is for the API
// only), every console form and every staff API route refuses them, and
// nothing changes.
func TestConsoleNeedsSessionOrToken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var wo workOrderJSON
	s.json("POST", "/api/v1/work-orders", `{"lock":"unit-101-front","note":"Bolt grinds."}`, http.StatusCreated, &wo)
	manager := s.signIn("manager@example.com", "demo-password")
	before := s.snapshot()
	residents, settings := manager.get("/console/residents"), manager.get("/console/settings")
	if !strings.Contains(string(residents.body), "Ana Ruiz") || !strings.Contains(string(settings.body), "Jam rule for Maple Court Apartments") {
		t.Fatalf("manager's pages lack their content:\n%s\n%s", residents.body, settings.body)
	}

	var pages, forms, api int
	for _, r := range routes(t) {
		p := r.path()
		switch {
		case r.guard == "requireConsole" && r.method == "GET":
			pages++
			for _, who := range [][]string{
				nil,
				{"Authorization", staffAuth},
				{"Cookie", "sk_staff=" + strings.Repeat("x", 43)},
			} {
				got := s.send("GET", p, "", "", who...)
				want := "/console/sign-in?next=" + url.QueryEscape(p)
				if got.status != http.StatusSeeOther || got.header.Get("Location") != want {
					t.Errorf("GET %s with %v = %d Location %q, want 303 to %s\n%s", p, who, got.status, got.header.Get("Location"), want, got.body)
				}
			}
		case r.guard == "requireConsole":
			forms++
			form := url.Values{"csrf": {manager.csrf}, "status": {"resolved"}, "resolution": {"x"}, "note": {"x"},
				"lock": {"unit-101-front"}, "jams": {"1"}, "days": {"1"}, "minutes": {"1"},
				"property": {"1"}, "unit": {"101"}, "name": {"Eve"}, "email": {"eve@example.com"}, "phone": {"2015550155"}}
			for _, who := range [][]string{nil, {"Authorization", staffAuth}} {
				got := s.send(r.method, p, formType, form.Encode(), who...)
				if got.status != http.StatusUnauthorized || !strings.Contains(string(got.body), "Sign in") {
					t.Errorf("%s %s with %v = %d, want 401 and a way to sign in\n%s", r.method, p, who, got.status, got.body)
				}
			}
		case r.guard == "requireStaff":
			api++
			body := ""
			if r.method != "GET" {
				body = `{"lock":"unit-101-front","note":"x","status":"resolved","resolution":"x","contact":"ana@example.com"}`
			}
			for _, who := range [][]string{
				nil,
				{"Authorization", "Bearer wrong-token"},
				{"Authorization", "Basic " + "dGVzdC1hZG1pbi10b2tlbg=="},
				{"Cookie", "sk_staff=" + strings.Repeat("x", 43)},
			} {
				got := s.send(r.method, p, "application/json", body, who...)
				if got.status != http.StatusUnauthorized || errorCode(got) != "unauthorized" || got.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s with %v = %d %s, want 401 unauthorized", r.method, p, who, got.status, got.body)
				}
			}
		}
	}
	if pages < 7 || forms < 7 || api < 10 {
		t.Fatalf("routes found: %d console pages, %d console forms, %d staff API routes; too few", pages, forms, api)
	}
	// The console's front door leads to sign-in too.
	for _, p := range []string{"/console", "/console/"} {
		if got := s.send("GET", p, "", ""); got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/console/") {
			t.Errorf("GET %s = %d %q", p, got.status, got.header.Get("Location"))
		}
	}

	if after := s.snapshot(); after != before {
		t.Errorf("refused requests changed the work orders:\n%s\n--- before ---\n%s", after, before)
	}
	if got := manager.get("/console/residents"); string(got.body) != string(residents.body) {
		t.Errorf("refused requests changed the residents:\n%s", got.body)
	}
	if got := manager.get("/console/settings"); string(got.body) != string(settings.body) {
		t.Errorf("refused requests changed the jam rule:\n%s", got.body)
	}
}

// TestConsoleAuthorization: maintenance staff of one property see nothing
// of another's work orders or doors, in the API or the console, and
// maintenance staff cannot reach the manager's pages.
func TestConsoleAuthorization(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.addElmStreet()
	var wo workOrderJSON
	s.json("POST", "/api/v1/work-orders", `{"lock":"unit-101-front","note":"Bolt grinds when locking."}`, http.StatusCreated, &wo)
	if wo.ID != 1 || wo.Lock != "unit-101-front" || wo.Unit != "101" || wo.Status != "open" {
		t.Fatalf("work order opened by the admin token: %+v", wo)
	}
	elm := s.signIn(elmEmail, elmPassword)
	maple := s.signIn("maintenance@example.com", "demo-password")
	before := s.snapshot()

	// The API: Elm Street's maintenance account sees no Maple Court order.
	for _, q := range []string{"", "?status=open", "?lock=unit-101-front"} {
		if r := elm.api("GET", "/api/v1/work-orders"+q, "", ""); r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("Elm Street lists work orders%s = %d %s, want []", q, r.status, r.body)
		}
	}
	if r := elm.api("GET", "/api/v1/work-orders/1", "", ""); r.status != http.StatusNotFound || errorCode(r) != "not_found" || strings.Contains(string(r.body), "unit-101-front") {
		t.Errorf("Elm Street GET work order 1 = %d %s, want 404 not_found", r.status, r.body)
	}
	if r := elm.api("PATCH", "/api/v1/work-orders/1", `{"status":"resolved","resolution":"Fixed it."}`, elm.csrf); r.status != http.StatusNotFound || errorCode(r) != "not_found" {
		t.Errorf("Elm Street PATCH work order 1 = %d %s, want 404", r.status, r.body)
	}
	if r := elm.api("PATCH", "/api/v1/work-orders/1", `{"note":"Looked at it."}`, elm.csrf); r.status != http.StatusNotFound {
		t.Errorf("Elm Street adds a note to work order 1 = %d %s, want 404", r.status, r.body)
	}
	if r := elm.api("POST", "/api/v1/work-orders", `{"lock":"unit-101-front","note":"Looked at it."}`, elm.csrf); r.status != http.StatusNotFound {
		t.Errorf("Elm Street opens an order on Maple Court's door = %d %s, want 404", r.status, r.body)
	}

	// The console: the same, as pages.
	for _, p := range []string{"/console/work-orders/1", "/console/locks/unit-101-front"} {
		r := elm.get(p)
		if r.status != http.StatusNotFound || strings.Contains(string(r.body), "Maple Court") || strings.Contains(string(r.body), "unit 101") {
			t.Errorf("Elm Street GET %s = %d, want a 404 page that shows nothing of it\n%s", p, r.status, r.body)
		}
		if !strings.Contains(string(r.body), "Elm Fixer") {
			t.Errorf("Elm Street's 404 page for %s is not inside the console:\n%s", p, r.body)
		}
	}
	for _, p := range []string{"/console/work-orders", "/console/work-orders?status=all", "/console/work-orders?status=open"} {
		r := elm.get(p)
		if b := string(r.body); r.status != http.StatusOK || strings.Contains(b, `href="/console/work-orders/1"`) || strings.Contains(b, "unit 101") || !strings.Contains(b, "All (0)") {
			t.Errorf("Elm Street's %s = %d shows Maple Court's order\n%s", p, r.status, b)
		}
	}
	locks := string(elm.get("/console/locks").body)
	if !strings.Contains(locks, elmLock) || strings.Contains(locks, "unit-101-front") || strings.Contains(locks, "unit-102-front") {
		t.Errorf("Elm Street's lock health shows other doors or not its own:\n%s", locks)
	}
	if r := elm.submit("/console/work-orders/1", "status", "resolved", "resolution", "Fixed it."); r.status != http.StatusNotFound {
		t.Errorf("Elm Street's console form on work order 1 = %d, want 404\n%s", r.status, r.body)
	}
	if r := elm.submit("/console/work-orders", "lock", "unit-101-front", "note", "Looked at it."); r.status != http.StatusNotFound {
		t.Errorf("Elm Street's console opens an order on Maple Court's door = %d, want 404\n%s", r.status, r.body)
	}
	if after := s.snapshot(); after != before {
		t.Fatalf("Elm Street's refused requests changed Maple Court's work orders:\n%s\n--- before ---\n%s", after, before)
	}

	// Elm Street's own order, which Maple Court's account cannot see.
	var own workOrderJSON
	r := elm.api("POST", "/api/v1/work-orders", `{"lock":"`+elmLock+`","note":"Door sticks when it rains."}`, elm.csrf)
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &own) != nil || own.Lock != elmLock || own.Unit != "1" {
		t.Fatalf("Elm Street opens an order on its own door = %d %s", r.status, r.body)
	}
	if r := elm.api("GET", "/api/v1/work-orders", "", ""); !strings.Contains(string(r.body), elmLock) || strings.Contains(string(r.body), "unit-101-front") {
		t.Errorf("Elm Street's list = %s, want only its own order", r.body)
	}
	if r := elm.get("/console/work-orders/" + jsonID(own.ID)); r.status != http.StatusOK || !strings.Contains(string(r.body), "Door sticks when it rains.") {
		t.Errorf("Elm Street's own order page = %d\n%s", r.status, r.body)
	}
	if r := maple.api("GET", "/api/v1/work-orders/"+jsonID(own.ID), "", ""); r.status != http.StatusNotFound {
		t.Errorf("Maple Court GET Elm Street's order = %d %s, want 404", r.status, r.body)
	}
	if r := maple.get("/console/work-orders/" + jsonID(own.ID)); r.status != http.StatusNotFound || strings.Contains(string(r.body), "Door sticks") {
		t.Errorf("Maple Court's console shows Elm Street's order: %d\n%s", r.status, r.body)
	}
	if r := maple.get("/console/locks/" + elmLock); r.status != http.StatusNotFound {
		t.Errorf("Maple Court's console shows Elm Street's door: %d", r.status)
	}
	if r := maple.api("GET", "/api/v1/work-orders", "", ""); strings.Contains(string(r.body), elmLock) || !strings.Contains(string(r.body), "unit-101-front") {
		t.Errorf("Maple Court's list = %s, want its order only", r.body)
	}
	var all []workOrderJSON
	s.json("GET", "/api/v1/work-orders", "", http.StatusOK, &all)
	if len(all) != 2 {
		t.Errorf("the admin token sees %d orders, want both properties' 2", len(all))
	}

	// Maintenance staff cannot reach the manager's pages and forms.
	for _, p := range []string{"/console/residents", "/console/audit", "/console/settings"} {
		r := maple.get(p)
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "Only managers can do this.") || strings.Contains(string(r.body), "ana@example.com") {
			t.Errorf("maintenance GET %s = %d, want 403\n%s", p, r.status, r.body)
		}
	}
	if strings.Contains(string(maple.get("/console/work-orders").body), `href="/console/residents"`) {
		t.Error("the maintenance account's console links to the manager's pages")
	}
	for _, c := range [][]string{
		{"/console/residents/1/move-out"},
		{"/console/residents", "property", "1", "unit", "101", "name", "Eve Stone", "email", "eve@example.com", "phone", "2015550155"},
		{"/console/settings/properties/1/jam-rule", "jams", "1", "days", "1", "minutes", "1"},
	} {
		if r := maple.submit(c[0], c[1:]...); r.status != http.StatusForbidden {
			t.Errorf("maintenance POST %s = %d, want 403\n%s", c[0], r.status, r.body)
		}
	}
	manager := s.signIn("manager@example.com", "demo-password")
	residents := string(manager.get("/console/residents").body)
	if !strings.Contains(residents, "Ana Ruiz") || strings.Contains(residents, "Ana Ruiz, moved out") || strings.Contains(residents, "Eve Stone") {
		t.Errorf("maintenance's refused forms changed the residents:\n%s", residents)
	}
	if strings.Contains(residents, "Dana Li") || strings.Contains(residents, elmProperty) {
		t.Errorf("Maple Court's manager sees Elm Street's residents:\n%s", residents)
	}
	if settings := string(manager.get("/console/settings").body); !strings.Contains(settings, `name="jams" type="number" min="1" max="100" value="3"`) || strings.Contains(settings, elmProperty) {
		t.Errorf("the jam rule changed, or Maple Court's manager sees Elm Street's:\n%s", settings)
	}
	if audit := manager.get("/console/audit"); audit.status != http.StatusOK || !strings.Contains(string(audit.body), "work_order.opened") {
		t.Errorf("the manager's audit log = %d\n%s", audit.status, audit.body)
	}
}

// TestConsoleStaffLockAPIIsPerProperty: the lock routes of the staff API
// answer a console session only about its own property's locks, as the
// console's lock pages do (docs/security.md rule 15: staff only their property).
func TestConsoleStaffLockAPIIsPerProperty(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.waitLock("unit-101-front", "first sync", inSync)
	s.addElmStreet()
	elm := s.signIn(elmEmail, elmPassword)
	if r := elm.api("GET", "/api/v1/locks/"+elmLock, "", ""); r.status != http.StatusOK || !strings.Contains(string(r.body), elmLock) {
		t.Fatalf("Elm Street GET its own lock = %d %s", r.status, r.body)
	}
	if r := elm.api("GET", "/api/v1/locks", "", ""); strings.Contains(string(r.body), "unit-101-front") {
		t.Errorf("Elm Street's maintenance lists Maple Court's locks: %s", r.body)
	}
	for _, p := range []string{"/api/v1/locks/unit-101-front", "/api/v1/locks/unit-101-front/events"} {
		if r := elm.api("GET", p, "", ""); r.status != http.StatusNotFound {
			t.Errorf("Elm Street's maintenance GET %s = %d %s, want 404", p, r.status, r.body)
		}
	}
	if r := elm.api("POST", "/api/v1/locks/unit-101-front/unlock", "", elm.csrf); r.status != http.StatusNotFound {
		t.Errorf("Elm Street's maintenance remotely unlocks Maple Court's unit 101 = %d %s, want 404", r.status, r.body)
	}
	if r := elm.api("POST", "/api/v1/residents/move-out", `{"contact":"ben@example.com"}`, elm.csrf); r.status == http.StatusOK {
		t.Errorf("Elm Street's maintenance moves out Maple Court's Ben = %d %s, want a refusal", r.status, r.body)
	}
	// Moving residents out is the manager's, in the API as in the console.
	maple := s.signIn("maintenance@example.com", "demo-password")
	if r := maple.api("POST", "/api/v1/residents/move-out", `{"contact":"chen@example.com"}`, maple.csrf); r.status != http.StatusForbidden {
		t.Errorf("Maple Court's maintenance moves out Chen through the API = %d %s, want 403 (managers only)", r.status, r.body)
	}
}

// TestConsoleCSRF: a console form without the session's token, an API
// change with a session but without the X-CSRF-Token header, and a
// cross-site post are all refused and change nothing.
func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var wo workOrderJSON
	s.json("POST", "/api/v1/work-orders", `{"lock":"unit-101-front","note":"Bolt grinds."}`, http.StatusCreated, &wo)
	maint := s.signIn("maintenance@example.com", "demo-password")
	manager := s.signIn("manager@example.com", "demo-password")
	if maint.csrf == manager.csrf {
		t.Fatal("two sessions have the same CSRF token")
	}
	before := s.snapshot()

	change := url.Values{"status": {"in_progress"}, "note": {"On my way."}}
	for name, csrf := range map[string][]string{
		"no csrf field":            nil,
		"an empty csrf field":      {""},
		"a wrong csrf field":       {strings.Repeat("0", 64)},
		"another session's token":  {manager.csrf},
		"the csrf field twice":     {"wrong", maint.csrf},
		"the sign-in form's token": {csrfOf(t, s.send("GET", "/console/sign-in", "", ""))},
	} {
		form := url.Values{}
		for k, v := range change {
			form[k] = v
		}
		if csrf != nil {
			form["csrf"] = csrf
		}
		r := maint.postForm("/console/work-orders/1", form)
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "did not come from this console") {
			t.Errorf("console form with %s = %d, want 403\n%s", name, r.status, r.body)
		}
	}
	if r := maint.postForm("/console/sign-out", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("sign-out without csrf = %d, want 403", r.status)
	}
	if r := maint.get("/console/work-orders"); r.status != http.StatusOK {
		t.Errorf("a refused sign-out ended the session: %d", r.status)
	}
	if r := manager.postForm("/console/settings/properties/1/jam-rule", url.Values{"jams": {"1"}, "days": {"1"}, "minutes": {"1"}}); r.status != http.StatusForbidden {
		t.Errorf("jam rule form without csrf = %d, want 403", r.status)
	}
	// The roster import is multipart: the token is checked there too.
	multipart := "--b\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n" +
		"property,unit,lock,name,email,phone\nMaple Court Apartments,101,unit-101-front,Eve Stone,eve@example.com,2015550155\n\r\n--b--\r\n"
	if r := s.send("POST", "/console/residents/import", "multipart/form-data; boundary=b", multipart, "Cookie", "sk_staff="+manager.cookie); r.status != http.StatusForbidden {
		t.Errorf("roster import without csrf = %d, want 403\n%s", r.status, r.body)
	}
	if strings.Contains(string(manager.get("/console/residents").body), "Eve Stone") {
		t.Error("a roster import without the CSRF token went through")
	}

	// The JSON API with a session cookie needs the header.
	patch := `{"status":"in_progress","note":"On my way."}`
	for name, csrf := range map[string]string{"no X-CSRF-Token": "", "a wrong X-CSRF-Token": "not-the-token", "another session's token": manager.csrf} {
		r := maint.api("PATCH", "/api/v1/work-orders/1", patch, csrf)
		if r.status != http.StatusForbidden || errorCode(r) != "forbidden" {
			t.Errorf("PATCH with a session and %s = %d %s, want 403 forbidden", name, r.status, r.body)
		}
		if r := maint.api("POST", "/api/v1/work-orders", `{"lock":"unit-102-front","note":"x"}`, csrf); r.status != http.StatusForbidden {
			t.Errorf("POST work order with a session and %s = %d %s, want 403", name, r.status, r.body)
		}
	}
	// The CSRF field in the form does not stand in for the header.
	if r := maint.api("PATCH", "/api/v1/work-orders/1?csrf="+maint.csrf, patch, ""); r.status != http.StatusForbidden {
		t.Errorf("PATCH with the token in the query = %d, want 403", r.status)
	}

	// A cross-site post is refused even with a good session and token.
	crossSite := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
	r := maint.postForm("/console/work-orders/1", url.Values{"csrf": {maint.csrf}, "status": {"in_progress"}}, crossSite...)
	if r.status != http.StatusForbidden {
		t.Errorf("cross-site console form = %d, want 403\n%s", r.status, r.body)
	}
	if r := maint.api("PATCH", "/api/v1/work-orders/1", patch, maint.csrf, crossSite...); r.status != http.StatusForbidden || errorCode(r) != "forbidden" {
		t.Errorf("cross-site API PATCH = %d %s, want 403", r.status, r.body)
	}
	if r := maint.api("PATCH", "/api/v1/work-orders/1", patch, maint.csrf, "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Errorf("API PATCH from another origin = %d %s, want 403", r.status, r.body)
	}
	form := s.send("GET", "/console/sign-in", "", "")
	signIn := url.Values{"email": {"maintenance@example.com"}, "password": {"demo-password"}, "csrf": {csrfOf(t, form)}}
	r = s.send("POST", "/console/sign-in", formType, signIn.Encode(), append([]string{"Cookie", "sk_pre=" + cookieNamed(form, "sk_pre").Value}, crossSite...)...)
	if r.status != http.StatusForbidden || cookieNamed(r, "sk_staff") != nil {
		t.Errorf("cross-site sign-in = %d, cookie %v; want 403 and no session", r.status, cookieNamed(r, "sk_staff"))
	}
	// The sign-in form itself carries a token bound to its sk_pre cookie.
	if r := s.send("POST", "/console/sign-in", formType, signIn.Encode()); r.status != http.StatusForbidden || cookieNamed(r, "sk_staff") != nil ||
		!strings.Contains(string(r.body), "This form expired") {
		t.Errorf("sign-in without the sk_pre cookie = %d, want 403\n%s", r.status, r.body)
	}
	other := s.send("GET", "/console/sign-in", "", "")
	if r := s.send("POST", "/console/sign-in", formType, signIn.Encode(), "Cookie", "sk_pre="+cookieNamed(other, "sk_pre").Value); r.status != http.StatusForbidden || cookieNamed(r, "sk_staff") != nil {
		t.Errorf("sign-in with another form's token = %d, want 403", r.status)
	}

	if after := s.snapshot(); after != before {
		t.Fatalf("refused requests changed the work order:\n%s\n--- before ---\n%s", after, before)
	}

	// The same requests with the token go through: same-origin browsers
	// and API clients keep working.
	if r := maint.api("PATCH", "/api/v1/work-orders/1", `{"note":"Ordered a new strike plate."}`, maint.csrf); r.status != http.StatusOK {
		t.Fatalf("PATCH with the session's token = %d %s", r.status, r.body)
	}
	r = maint.postForm("/console/work-orders/1", url.Values{"csrf": {maint.csrf}, "status": {"in_progress"}},
		"Sec-Fetch-Site", "same-origin", "Origin", s.base)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/work-orders/1?done=updated" {
		t.Fatalf("same-origin console form = %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	var got workOrderDetail
	s.json("GET", "/api/v1/work-orders/1", "", http.StatusOK, &got)
	if got.Status != "in_progress" || !got.hasNote("note", "Ordered a new strike plate.") {
		t.Fatalf("work order after the accepted changes: %+v", got)
	}
}

// TestConsoleSignInAndOut: the session cookie's flags, one message for a
// wrong password and an unknown email, and a sign-out that ends the
// session for good.
func TestConsoleSignInAndOut(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	page := s.send("GET", "/console/sign-in", "", "")
	for _, r := range []response{page} {
		c := cookieNamed(r, "sk_pre")
		if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("sk_pre cookie = %+v, want HttpOnly, Secure, SameSite=Lax", c)
		}
	}
	if !strings.Contains(string(page.body), "demo-password") {
		t.Error("the demo's sign-in page does not say the demo accounts' password")
	}

	wrong := s.signInAttempt("maintenance@example.com", "not-the-password", "/console/work-orders")
	unknown := s.signInAttempt("nobody@example.com", "demo-password", "/console/work-orders")
	message := regexp.MustCompile(`id="signin-error"[^>]*>([^<]*)<`)
	var msgs []string
	for _, r := range []response{wrong, unknown} {
		m := message.FindSubmatch(r.body)
		if r.status != http.StatusUnauthorized || m == nil || cookieNamed(r, "sk_staff") != nil {
			t.Fatalf("failed sign-in = %d, cookie %v\n%s", r.status, cookieNamed(r, "sk_staff"), r.body)
		}
		msgs = append(msgs, html.UnescapeString(string(m[1])))
	}
	if msgs[0] != msgs[1] || !strings.HasPrefix(msgs[0], "That email and password do not match an account.") {
		t.Errorf("wrong password says %q, unknown email says %q; want the same message", msgs[0], msgs[1])
	}
	if !strings.Contains(string(wrong.body), `value="maintenance@example.com"`) {
		t.Error("the sign-in form forgot the email typed")
	}

	// Sign in, landing on the page asked for; never on another site.
	r := s.signInAttempt("maintenance@example.com", "demo-password", "/console/locks")
	c := cookieNamed(r, "sk_staff")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/locks" || c == nil {
		t.Fatalf("sign in = %d %q, cookie %v", r.status, r.header.Get("Location"), c)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) < 40 {
		t.Errorf("sk_staff cookie = %+v, want HttpOnly, Secure, SameSite=Lax, Path=/ and a long random value", c)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/console/\\evil"} {
		if r := s.signInAttempt("maintenance@example.com", "demo-password", next); r.header.Get("Location") != "/console/work-orders" {
			t.Errorf("sign in with next=%q went to %q", next, r.header.Get("Location"))
		}
	}
	st := &staffSession{s: s, email: "maintenance@example.com", cookie: c.Value}
	home := st.get("/console/work-orders")
	if home.status != http.StatusOK || !strings.Contains(string(home.body), "Luis Romero · maintenance") {
		t.Fatalf("console after sign-in = %d\n%s", home.status, home.body)
	}
	st.csrf = csrfOf(t, home)
	if r := st.api("GET", "/api/v1/work-orders", "", ""); r.status != http.StatusOK {
		t.Fatalf("API with the session = %d %s", r.status, r.body)
	}
	if r := st.get("/console/sign-in"); r.status != http.StatusSeeOther {
		t.Errorf("sign-in page while signed in = %d, want a redirect into the console", r.status)
	}

	out := st.submit("/console/sign-out")
	gone := cookieNamed(out, "sk_staff")
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/console/sign-in" || gone == nil || gone.MaxAge >= 0 || gone.Value != "" {
		t.Fatalf("sign out = %d %q, cookie %+v; want 303 to sign-in and the cookie deleted", out.status, out.header.Get("Location"), gone)
	}
	// A copy of the old cookie is worth nothing now.
	if r := st.get("/console/work-orders"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/console/sign-in") {
		t.Errorf("console with the signed-out cookie = %d %q, want a redirect to sign-in", r.status, r.header.Get("Location"))
	}
	if r := st.api("GET", "/api/v1/work-orders", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("API with the signed-out cookie = %d %s, want 401", r.status, r.body)
	}
	if r := st.submit("/console/work-orders", "lock", "unit-101-front", "note", "x"); r.status != http.StatusUnauthorized {
		t.Errorf("console form with the signed-out cookie = %d, want 401", r.status)
	}
	// Other sessions of the same person live on.
	if again := s.signIn("maintenance@example.com", "demo-password"); again.cookie == c.Value {
		t.Error("a new sign-in got the old session's token")
	}
}

// TestConsoleSignInIsLimitedPerClient: every password check costs an
// argon2id hash (19 MiB), so one client gets ten tries a minute.
func TestConsoleSignInIsLimitedPerClient(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for i := range 10 {
		if r := s.signInAttempt(fmt.Sprintf("nobody%d@example.com", i), "wrong-password", "/console/work-orders"); r.status != http.StatusUnauthorized {
			t.Fatalf("try %d = %d, want 401", i+1, r.status)
		}
	}
	r := s.signInAttempt("maintenance@example.com", "demo-password", "/console/work-orders")
	if r.status != http.StatusTooManyRequests || cookieNamed(r, "sk_staff") != nil || !strings.Contains(string(r.body), "Wait a minute") {
		t.Errorf("the 11th try in a minute = %d, cookie %v, want 429 and no session", r.status, cookieNamed(r, "sk_staff"))
	}
	// A fleet's metrics are for the admin token, not a property's staff.
	if st := s.send("GET", "/metrics", "", "", "Cookie", "sk_staff=nonsense"); st.status != http.StatusUnauthorized {
		t.Errorf("metrics with a bad session = %d", st.status)
	}
}

// TestConsoleMoveOutAsksFirst: one tap ends someone's access to their
// home, so the console asks before it does.
func TestConsoleMoveOutAsksFirst(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	manager := s.signIn("manager@example.com", demoSecret)
	page := manager.get("/console/residents")
	m := regexp.MustCompile(`action="/console/residents/(\d+)/move-out"[^>]*><input type="hidden" name="csrf" value="[^"]*"><input type="hidden" name="name" value="Ben Okafor">`).FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("no move-out form for Ben on the residents page\n%s", page.body)
	}
	path := "/console/residents/" + string(m[1]) + "/move-out"
	r := manager.submit(path, "name", "Ben Okafor")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Move Ben Okafor out?") || !strings.Contains(string(r.body), `name="confirm" value="yes"`) {
		t.Fatalf("move-out without confirming = %d\n%s", r.status, r.body)
	}
	if k := s.keypad("unit-102-front", "731845"); k != "unlocked" {
		t.Fatalf("Ben's code after an unconfirmed move-out = %s, want unlocked", k)
	}
	if r := manager.submit(path, "confirm", "yes"); r.status != http.StatusSeeOther {
		t.Fatalf("confirmed move-out = %d\n%s", r.status, r.body)
	}
	if page := manager.get("/console/residents"); !strings.Contains(string(page.body), "Ben Okafor, moved out") {
		t.Errorf("Ben is not shown moved out after the confirmed move-out")
	}
}

// TestConsoleMoveInAndImport: a manager moves a resident in and imports a
// roster from the console; both residents get a working code, and the
// audit trail names the manager once for each, not "Sparekey".
func TestConsoleMoveInAndImport(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	manager := s.signIn("manager@example.com", demoSecret)
	if page := string(manager.get("/console/residents").body); !strings.Contains(page, `name="welcome" value="yes" checked`) {
		t.Errorf("the move-in form does not offer the welcome email, checked:\n%s", page)
	}
	r := manager.submit("/console/residents", "property", "1", "unit", "101", "name", "Eve Stone", "email", "eve@example.com", "phone", "2015550155", "welcome", "yes")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/residents?done=moved_in" {
		t.Fatalf("move in = %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	multipart := "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + manager.csrf + "\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n" +
		"property,unit,lock,name,email,phone\nMaple Court Apartments,103,unit-103-front,Finn Hale,finn@example.com,2015550156\n\r\n--b--\r\n"
	r = s.send("POST", "/console/residents/import", "multipart/form-data; boundary=b", multipart, "Cookie", "sk_staff="+manager.cookie)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/residents?done=imported&n=1" {
		t.Fatalf("roster import = %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if done := string(manager.get("/console/residents?done=imported&n=1").body); !strings.Contains(done, "Roster imported: 1 resident added.") {
		t.Errorf("the page after the import does not say how many were added:\n%s", done)
	}
	page := string(manager.get("/console/residents").body)
	for _, name := range []string{"Eve Stone", "Finn Hale"} {
		if !strings.Contains(page, name) {
			t.Errorf("residents page lacks %s after moving in\n%s", name, page)
		}
	}
	// Eve, moved in with the box checked, is welcomed by email only; the
	// roster import sends nothing.
	welcome := s.waitMessages("eve@example.com", "welcome", 1)[0]
	if welcome.Channel != "email" || welcome.Subject != "Welcome to Maple Court Apartments: your door code" ||
		!strings.Contains(welcome.Body, "Hi Eve,\n\nWelcome to unit 101 at Maple Court Apartments.") ||
		!strings.Contains(welcome.Body, s.base+"/app ") || !strings.Contains(welcome.Body, s.base+"/support/locked-out ") {
		t.Errorf("Eve's welcome: %+v", welcome)
	}
	if got := ofKind(s.outbox("+12015550155"), "welcome"); len(got) != 0 {
		t.Errorf("the welcome went by SMS too: %+v", got)
	}
	if got := ofKind(s.outbox("finn@example.com"), "welcome"); len(got) != 0 {
		t.Errorf("a resident imported without the box checked was welcomed: %+v", got)
	}
	// An import with the box checked welcomes each new resident.
	multipart = "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + manager.csrf + "\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"welcome\"\r\n\r\nyes\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n" +
		"property,unit,lock,name,email,phone\nMaple Court Apartments,102,unit-102-front,Gil Moss,gil@example.com,2015550157\n\r\n--b--\r\n"
	if r := s.send("POST", "/console/residents/import", "multipart/form-data; boundary=b", multipart, "Cookie", "sk_staff="+manager.cookie); r.status != http.StatusSeeOther {
		t.Fatalf("roster import with welcome = %d\n%s", r.status, r.body)
	}
	if got := s.waitMessages("gil@example.com", "welcome", 1)[0]; !strings.Contains(got.Body, "Welcome to unit 102 at Maple Court Apartments.") {
		t.Errorf("Gil's welcome: %+v", got)
	}
	// Locked out on day one, each gets a backup code that opens their door.
	for _, c := range []struct{ email, lock string }{{"eve@example.com", "unit-101-front"}, {"finn@example.com", "unit-103-front"}} {
		s.requestCode(c.email)
		code := s.reveal(s.linkToken(s.waitMessages(c.email, "backup_link", 1)[0])).Codes[0]
		if code.Lock != c.lock {
			t.Errorf("%s's backup code is for %s, want %s", c.email, code.Lock, c.lock)
		}
		if got := s.keypad(c.lock, code.Code); got != "unlocked" {
			t.Errorf("%s's backup code at %s = %s, want unlocked", c.email, c.lock, got)
		}
	}

	audit := string(manager.get("/console/audit?action=resident.").body)
	if n := strings.Count(audit, "<td data-label=\"Action\">resident.moved_in</td>"); n != 6 {
		t.Errorf("%d resident.moved_in rows, want 6 (3 demo residents, Eve, Finn, Gil): one line each\n%s", n, audit)
	}
	if n := strings.Count(audit, ">Maya Patel</a>"); n != 3 {
		t.Errorf("the manager is named on %d resident rows, want 3 (Eve, Finn and Gil)\n%s", n, audit)
	}
	for _, name := range []string{">Eve Stone (resident)</a>", ">Finn Hale (resident)</a>", ">Ana Ruiz (resident)</a>"} {
		if !strings.Contains(audit, name) {
			t.Errorf("the audit log does not name the resident %s\n%s", name, audit)
		}
	}
	if strings.Contains(audit, "resident.added") {
		t.Errorf("a console move-in is logged twice (resident.added too)\n%s", audit)
	}
	if got := string(manager.get("/console/audit?action=roster.").body); !strings.Contains(got, "roster.imported") || !strings.Contains(got, ">Maya Patel</a>") {
		t.Errorf("the roster import is not in the audit log under the manager's name\n%s", got)
	}
}
