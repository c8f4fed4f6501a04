package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"sparekey"
)

// Staff accounts sign in to the console with a session cookie; API clients
// send the admin token as a bearer. Both become a principal on the
// request's context; every handler asks it which properties it may see.

// principal is who makes a staff request.
type principal struct {
	staff   *sparekey.Staff // nil for the admin token
	session string          // the session token, "" for the admin token
}

// admin reports whether the request carries the admin token: every
// property, every action.
func (p *principal) admin() bool { return p.staff == nil }

// allowed reports whether the principal works for the property.
func (p *principal) allowed(propertyID int64) bool {
	return p.admin() || p.staff.WorksFor(propertyID)
}

// manager reports whether the principal may manage residents, rules and
// read the audit log.
func (p *principal) manager() bool {
	return p.admin() || p.staff.Role == sparekey.RoleManager
}

// properties is the filter of what the principal may see: nil for all.
func (p *principal) properties() []int64 {
	if p.admin() {
		return nil
	}
	return append([]int64{}, p.staff.Properties...)
}

// actor names the principal in the audit trail.
func (p *principal) actor() string {
	if p.admin() {
		return "staff:admin"
	}
	return fmt.Sprintf("staff:%d", p.staff.ID)
}

type principalKey struct{}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	return p
}

func withPrincipal(r *http.Request, p *principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// Cookie names: the staff session, and the pre-session CSRF secret of the
// sign-in form.
const (
	sessionCookie = "sk_staff"
	preCookie     = "sk_pre"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// authenticate finds the principal of a request: the admin bearer token,
// or a live session cookie. nil when neither.
func authenticate(cfg Config, r *http.Request) (*principal, error) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(cfg.AdminToken)) == 1 {
			return &principal{}, nil
		}
		return nil, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || cfg.Staff == nil {
		return nil, nil
	}
	st, err := cfg.Staff.Session(r.Context(), c.Value)
	if sparekey.ErrorCode(err) == sparekey.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &principal{staff: st, session: c.Value}, nil
}

// requireStaff lets through API requests with the admin bearer token or a
// staff session; a session's state-changing requests must also carry the
// CSRF token in the X-CSRF-Token header.
func requireStaff(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authenticate(cfg, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		if p == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sparekey"`)
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EUNAUTHORIZED, "Staff API: send Authorization: Bearer <admin token>, or sign in to the console."))
			return
		}
		if p.session != "" && unsafeMethod(r.Method) && !validCSRF(cfg, p.session, r.Header.Get(csrfHeader)) {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EFORBIDDEN, "Send the console's CSRF token in the X-CSRF-Token header."))
			return
		}
		next.ServeHTTP(w, withPrincipal(r, p))
	})
}

// requireConsole lets through console pages for a signed-in staff member;
// others are sent to the sign-in page (GET) or refused. Every POST must
// carry the session's CSRF token in the form.
func requireConsole(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authenticate(cfg, r)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		if p == nil || p.admin() {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.EUNAUTHORIZED, "Your session has ended. Sign in again."))
			return
		}
		if unsafeMethod(r.Method) && !validCSRF(cfg, p.session, formCSRF(w, r)) {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.EFORBIDDEN, "This form has expired or did not come from this console. Go back, reload the page and try again."))
			return
		}
		next.ServeHTTP(w, withPrincipal(r, p))
	})
}

// requireAdmin lets through only the admin token (metrics are fleet-wide,
// not one property's).
func requireAdmin(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalOf(r).admin() {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EFORBIDDEN, "Only the admin token may read this."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireManager refuses maintenance accounts.
func requireManager(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalOf(r).manager() {
			err := sparekey.Errorf(sparekey.EFORBIDDEN, "Only managers can do this.")
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeError(w, r, cfg.Logger, err)
			} else {
				consoleError(w, r, cfg, err)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// formCSRF reads the CSRF field of a form, multipart or not, without
// reading a large upload twice.
func formCSRF(w http.ResponseWriter, r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload+64<<10) // the file and the form's few fields
		if err := r.ParseMultipartForm(maxUpload); err != nil {
			return ""
		}
		return r.FormValue(csrfField)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	return r.PostFormValue(csrfField)
}

// csrfToken is the token forms of a session carry: a keyed hash of the
// session (or pre-session) secret, so nothing needs storing.
func csrfToken(cfg Config, secret string) string {
	if secret == "" || cfg.Keys == nil {
		return ""
	}
	return cfg.Keys.Hash("csrf", secret)
}

func validCSRF(cfg Config, secret, got string) bool {
	want := csrfToken(cfg, secret)
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// secureCookies says whether cookies get the Secure flag: always, except
// for a plain-http base URL on a host other than this machine, where a
// browser would drop a Secure cookie and nobody could sign in (production
// runs behind https; see docs/production.md).
func secureCookies(cfg Config) bool {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "http" {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func setCookie(w http.ResponseWriter, cfg Config, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secureCookies(cfg), SameSite: http.SameSiteLaxMode})
}
