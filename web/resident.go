package web

import (
	"context"
	"net/http"

	"sparekey"
	"sparekey/resident"
)

// A resident's own pages, under /app: sign-in with a code or link sent to
// the account (resident_signin.go), then Home (my doors, lock and unlock),
// Access (my code and its use) and More (support, language, sign out)
// (resident_home.go). Server-rendered, works without JavaScript. This file
// holds what they share: the session and the page frame.

// Residents signs residents in and serves their pages.
type Residents interface {
	RequestSignIn(ctx context.Context, typed string, v resident.Visit) (string, error)
	SignInWithCode(ctx context.Context, handle, code string, v resident.Visit) (string, error)
	SignInWithLink(ctx context.Context, token string, v resident.Visit) (string, error)
	CheckLink(ctx context.Context, token string) error
	Session(ctx context.Context, token string) (*sparekey.Resident, error)
	SignOut(ctx context.Context, token string) error
	Home(ctx context.Context, residentID int64) (*resident.Home, error)
	Operate(ctx context.Context, residentID int64, device string, unlock bool) error
	AccessCodes(ctx context.Context, residentID int64, reveal bool, v resident.Visit) (*resident.Access, error)
}

const (
	residentCookie = "sk_res"    // a resident's session
	signInCookie   = "sk_signin" // the sign-in attempt a typed code belongs to
)

// member is a signed-in resident and their session token (for CSRF).
type member struct {
	resident *sparekey.Resident
	session  string
}

type memberKey struct{}

func memberOf(r *http.Request) *member {
	m, _ := r.Context().Value(memberKey{}).(*member)
	return m
}

// signedIn finds the resident of the request's session cookie; nil when
// there is none (or it ended).
func signedIn(cfg Config, r *http.Request) *member {
	c, err := r.Cookie(residentCookie)
	if err != nil || cfg.Residents == nil {
		return nil
	}
	res, err := cfg.Residents.Session(r.Context(), c.Value)
	if err != nil {
		if sparekey.ErrorCode(err) != sparekey.EUNAUTHORIZED {
			cfg.Logger.Error("resident session", "err", err)
		}
		return nil
	}
	return &member{resident: res, session: c.Value}
}

// requireResident lets signed-in residents through; others go to the
// sign-in page. Every POST must carry the session's CSRF token.
func requireResident(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := signedIn(cfg, r)
		if m == nil {
			http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
			return
		}
		if unsafeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if !validCSRF(cfg, m.session, r.PostFormValue(csrfField)) {
				render(w, r, cfg.Logger, http.StatusForbidden, "app_expired", "Please try again", nil)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memberKey{}, m)))
	})
}

// renderResident renders a signed-in resident's page, with its bottom bar.
func renderResident(w http.ResponseWriter, r *http.Request, cfg Config, status int, name, title, tab string, data any) {
	m := memberOf(r)
	p := page{Title: title, Tab: tab, Data: residentPage{CSRF: csrfToken(cfg, m.session), Data: data, Done: r.URL.Query().Get("done")}}
	p.Resident = m.resident.FirstName()
	renderPage(w, r, cfg.Logger, status, name, p)
}

// residentPage is what every signed-in resident's page template gets as
// .Data.
type residentPage struct {
	CSRF  string
	Done  string // what the last action did, for a confirmation
	Error string
	Data  any
}

func residentVisit(r *http.Request) resident.Visit {
	return resident.Visit{IP: clientIP(r), UserAgent: r.UserAgent(), Language: language(r)}
}
