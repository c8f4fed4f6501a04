package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The resident app over HTTP, held to docs/security.md: the same answer to a
// sign-in request whatever was typed (1, 3), no code or token in the logs
// (12), HttpOnly Secure SameSite cookies, a CSRF token on every form and
// a resident's reach limited to their own unit (15).

// appSignIn asks for a sign-in code as a browser does and returns the
// answer to the request and the sk_signin handle it set.
func (s *testServer) appSignIn(typed string) (response, string) {
	s.t.Helper()
	form := s.send("GET", "/app/sign-in", "", "")
	pre := cookieNamed(form, "sk_pre")
	if form.status != http.StatusOK || pre == nil {
		s.t.Fatalf("sign-in page = %d, sk_pre %v", form.status, pre)
	}
	body := url.Values{"contact": {typed}, "csrf": {csrfOf(s.t, form)}}
	r := s.send("POST", "/app/sign-in", formType, body.Encode(), "Cookie", "sk_pre="+pre.Value)
	handle := cookieNamed(r, "sk_signin")
	if handle == nil {
		s.t.Fatalf("sign-in request for %q set no handle (%d)\n%s", typed, r.status, r.body)
	}
	code := s.send("GET", "/app/sign-in/code", "", "", "Cookie", "sk_pre="+pre.Value+"; sk_signin="+handle.Value)
	// The page, without its per-browser CSRF token, after where the
	// request sent the browser.
	page := csrfRE.ReplaceAll(code.body, []byte(`name="csrf" value=""`))
	return response{r.status, r.header, append([]byte(r.header.Get("Location")+"\n"), page...)}, pre.Value + "|" + handle.Value
}

var signInCodeRE = regexp.MustCompile(`sign-in code: (\d{6})`)

// appSession signs Ana in with the emailed code and returns her session
// cookie and the CSRF token of her pages.
func (s *testServer) appSession() (cookie, csrf string, code string) {
	s.t.Helper()
	_, both := s.appSignIn("ana@example.com")
	pre, handle, _ := strings.Cut(both, "|")
	msgs := s.waitMessages("ana@example.com", "sign_in", 1)
	m := signInCodeRE.FindStringSubmatch(msgs[0].Subject)
	if m == nil {
		s.t.Fatalf("no code in %q", msgs[0].Subject)
	}
	page := s.send("GET", "/app/sign-in/code", "", "", "Cookie", "sk_pre="+pre+"; sk_signin="+handle)
	form := url.Values{"code": {m[1]}, "csrf": {csrfOf(s.t, page)}}
	r := s.send("POST", "/app/sign-in/code", formType, form.Encode(), "Cookie", "sk_pre="+pre+"; sk_signin="+handle)
	c := cookieNamed(r, "sk_res")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app" || c == nil {
		s.t.Fatalf("sign in with the code = %d → %s, cookie %v\n%s", r.status, r.header.Get("Location"), c, r.body)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		s.t.Errorf("sk_res cookie %+v, want HttpOnly, Secure, SameSite=Lax", c)
	}
	home := s.send("GET", "/app", "", "", "Cookie", "sk_res="+c.Value)
	if home.status != http.StatusOK || !strings.Contains(string(home.body), "Hi Ana") {
		s.t.Fatalf("home after signing in = %d\n%s", home.status, home.body)
	}
	return c.Value, csrfOf(s.t, home), m[1]
}

func (s *testServer) lockState(device string) string {
	s.t.Helper()
	var l struct{ State string }
	s.json("GET", "/api/v1/locks/"+device, "", http.StatusOK, &l)
	return l.State
}

func TestAppSignInAnswersAlike(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	known, _ := s.appSignIn("ana@example.com")
	for _, typed := range []string{"nobody@example.com", "(201) 555-0142", "+12015550102 "} {
		other, _ := s.appSignIn(typed)
		if other.status != known.status || string(other.body) != string(known.body) {
			t.Errorf("sign-in for %q answers %d, for Ana %d; the pages differ:\n%s\n---\n%s", typed, other.status, known.status, other.body, known.body)
		}
	}
	// Nothing went to what was typed; Ben's phone typed with a space is
	// Ben's account, so his own contacts got it.
	for _, to := range []string{"nobody@example.com", "+12015550142"} {
		if got := s.outbox(to); len(got) != 0 {
			t.Errorf("%d messages to %s, who has no account", len(got), to)
		}
	}
	// Input that is no contact at all says so, and starts nothing.
	form := s.send("GET", "/app/sign-in", "", "")
	pre := cookieNamed(form, "sk_pre")
	bad := url.Values{"contact": {"not a contact"}, "csrf": {csrfOf(t, form)}}
	r := s.send("POST", "/app/sign-in", formType, bad.Encode(), "Cookie", "sk_pre="+pre.Value)
	if r.status != http.StatusBadRequest || cookieNamed(r, "sk_signin") != nil || !strings.Contains(string(r.body), "Enter the email address or phone number") {
		t.Errorf("malformed contact = %d\n%s", r.status, r.body)
	}
}

func TestAppSessionCSRFAndReach(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	// The door's first report, so "still locked" below means something.
	for _, d := range []string{"unit-101-front", "unit-102-front"} {
		s.waitLock(d, "first report", func(l lockJSON) bool { return l.State == "locked" })
	}
	// Without a session every app page sends the visitor to sign in, and
	// every form changes nothing.
	for _, path := range []string{"/app", "/app/access", "/app/more", "/app/maintenance"} {
		if r := s.send("GET", path, "", ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/sign-in" {
			t.Errorf("GET %s without a session = %d → %s", path, r.status, r.header.Get("Location"))
		}
	}
	if r := s.send("POST", "/app/locks/unit-101-front/unlock", formType, ""); r.status != http.StatusSeeOther {
		t.Errorf("unlock without a session = %d", r.status)
	}

	cookie, csrf, code := s.appSession()
	post := func(path string, form url.Values) response {
		t.Helper()
		return s.send("POST", path, formType, form.Encode(), "Cookie", "sk_res="+cookie)
	}
	// No token, or another's: refused, and the door stays locked.
	for _, bad := range []url.Values{{}, {"csrf": {""}}, {"csrf": {strings.Repeat("0", len(csrf))}}} {
		if r := post("/app/locks/unit-101-front/unlock", bad); r.status != http.StatusForbidden {
			t.Errorf("unlock with csrf %q = %d, want 403", bad.Get("csrf"), r.status)
		}
	}
	if got := s.lockState("unit-101-front"); got != "locked" {
		t.Fatalf("Ana's door after refused unlocks: %s", got)
	}
	// Ben's door is not Ana's: not found, and it stays locked.
	if r := post("/app/locks/unit-102-front/unlock", url.Values{"csrf": {csrf}}); r.status != http.StatusNotFound {
		t.Errorf("Ana unlocking Ben's door = %d, want 404", r.status)
	}
	if got := s.lockState("unit-102-front"); got != "locked" {
		t.Errorf("Ben's door after Ana's try: %s", got)
	}
	// Her own door opens.
	if r := post("/app/locks/unit-101-front/unlock", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app?done=unlocked" {
		t.Fatalf("Ana unlocking her door = %d → %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if got := s.lockState("unit-101-front"); got != "unlocked" {
		t.Errorf("Ana's door after her unlock: %s", got)
	}
	// Jammed, Lock fails and says why on Home's own address, so that a
	// reload does not send it again; Home says nothing for a made-up code.
	s.setJammed("unit-101-front", true)
	if r := post("/app/locks/unit-101-front/lock", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app?failed=lock_jammed" {
		t.Errorf("locking a jammed door = %d → %s, want 303 to /app?failed=lock_jammed", r.status, r.header.Get("Location"))
	}
	get := func(path string) string {
		t.Helper()
		return string(s.send("GET", path, "", "", "Cookie", "sk_res="+cookie).body)
	}
	if page := get("/app?failed=lock_jammed"); !strings.Contains(page, "Your door is jammed: no button or code can move the bolt.") {
		t.Errorf("Home after a failed lock does not say why:\n%s", page)
	}
	if page := get("/app?failed=made_up"); strings.Contains(page, `class="error"`) {
		t.Errorf("Home shows an error for a made-up code:\n%s", page)
	}
	// The code and the session token never reach the log.
	if logs := s.stderr.String(); strings.Contains(logs, cookie) || strings.Contains(logs, code) {
		t.Error("the server log holds the sign-in code or the session token")
	}
	// Signing out ends the session.
	if r := post("/app/sign-out", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out = %d", r.status)
	}
	if r := s.send("GET", "/app", "", "", "Cookie", "sk_res="+cookie); r.status != http.StatusSeeOther {
		t.Errorf("home with the old cookie after signing out = %d", r.status)
	}
}
