package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"sparekey"
	"sparekey/resident"
	"sparekey/secret"
	"sparekey/upkeep"
)

// The resident app: sign-in with a code or link sent to the account, then
// Home (my doors, lock and unlock), Access (my code and its use) and More
// (support, language, sign out). Server-rendered, works without
// JavaScript.

// Residents is the resident app's service.
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

// renderApp renders a page of the signed-in app, with its bottom bar.
func renderApp(w http.ResponseWriter, r *http.Request, cfg Config, status int, name, title, tab string, data any) {
	m := memberOf(r)
	p := page{Title: title, Tab: tab, Data: appPage{CSRF: csrfToken(cfg, m.session), Data: data, Done: r.URL.Query().Get("done")}}
	p.Resident = m.resident.FirstName()
	renderPage(w, r, cfg.Logger, status, name, p)
}

// appPage is what every app page's template gets as .Data.
type appPage struct {
	CSRF  string
	Done  string // what the last action did, for a confirmation
	Error string
	Data  any
}

func residentVisit(r *http.Request) resident.Visit {
	return resident.Visit{IP: clientIP(r), UserAgent: r.UserAgent(), Language: language(r)}
}

// Sign-in.

type signInPage struct {
	CSRF, Contact, Error string
}

// preToken returns the pre-session CSRF secret of a sign-in form, setting
// its cookie when there is none yet.
func preToken(w http.ResponseWriter, r *http.Request, cfg Config) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) > 20 && len(c.Value) < 100 {
		return c.Value
	}
	v := secret.NewToken()
	setCookie(w, cfg, preCookie, v, 3600)
	return v
}

func validPre(cfg Config, r *http.Request) bool {
	c, err := r.Cookie(preCookie)
	return err == nil && validCSRF(cfg, c.Value, r.PostFormValue(csrfField))
}

func handleAppSignInPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signedIn(cfg, r) != nil {
			http.Redirect(w, r, "/app", http.StatusSeeOther)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "app_signin", "Sign in", signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg))})
	})
}

func handleAppSignIn(cfg Config, limit *windowLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		typed := strings.TrimSpace(r.PostFormValue("contact"))
		again := func(status int, msg string) {
			render(w, r, cfg.Logger, status, "app_signin", "Sign in",
				signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Contact: typed, Error: msg})
		}
		if !validPre(cfg, r) {
			again(http.StatusForbidden, "This form expired. Please try again.")
			return
		}
		if !limit.allow(clientIP(r)) {
			w.Header().Set("Retry-After", "60")
			again(http.StatusTooManyRequests, "Too many tries from your network. Wait a minute and try again.")
			return
		}
		handle, err := cfg.Residents.RequestSignIn(r.Context(), typed, residentVisit(r))
		if err != nil {
			if code := sparekey.ErrorCode(err); code == sparekey.EINVALIDCONTACT || code == sparekey.EINVALID {
				again(http.StatusBadRequest, "Enter the email address or phone number on your account.")
				return
			}
			cfg.Logger.Error("resident sign-in", "err", err)
			again(http.StatusInternalServerError, "That didn't work on our side. Please try again in a moment.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: handle, Path: "/app/sign-in", MaxAge: int(sparekey.SignInTTL / time.Second),
			HttpOnly: true, Secure: secureCookies(cfg), SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/app/sign-in/code", http.StatusSeeOther)
	})
}

func handleAppCodePage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(signInCookie); err != nil {
			http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "app_code", "Enter your code", signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg))})
	})
}

func handleAppCode(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		again := func(status int, msg string) {
			render(w, r, cfg.Logger, status, "app_code", "Enter your code", signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Error: msg})
		}
		if !validPre(cfg, r) {
			again(http.StatusForbidden, "This form expired. Please try again.")
			return
		}
		c, err := r.Cookie(signInCookie)
		if err != nil {
			http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
			return
		}
		token, err := cfg.Residents.SignInWithCode(r.Context(), c.Value, r.PostFormValue("code"), residentVisit(r))
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("resident sign-in code", "err", err)
			}
			again(httpStatus(err), sparekey.ErrorMessage(err))
			return
		}
		startSession(w, cfg, token)
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
}

func startSession(w http.ResponseWriter, cfg Config, token string) {
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/app/sign-in", MaxAge: -1,
		HttpOnly: true, Secure: secureCookies(cfg), SameSite: http.SameSiteLaxMode})
	setCookie(w, cfg, preCookie, "", -1)
	setCookie(w, cfg, residentCookie, token, 30*24*3600)
}

type signInLinkPage struct {
	CSRF, Token, Error string
}

// handleAppLinkPage shows the sign-in link's button: a GET signs nobody in
// (mail scanners follow links), the POST does.
func handleAppLinkPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		if err := cfg.Residents.CheckLink(r.Context(), token); err != nil {
			status := httpStatus(err)
			render(w, r, cfg.Logger, status, "app_signin", "Sign in",
				signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Error: sparekey.ErrorMessage(err)})
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "app_link", "Sign in", signInLinkPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Token: token})
	})
}

func handleAppLink(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if !validPre(cfg, r) {
			render(w, r, cfg.Logger, http.StatusForbidden, "app_link", "Sign in",
				signInLinkPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Token: r.PathValue("token"), Error: "This form expired. Please try again."})
			return
		}
		token, err := cfg.Residents.SignInWithLink(r.Context(), r.PathValue("token"), residentVisit(r))
		if err != nil {
			render(w, r, cfg.Logger, httpStatus(err), "app_signin", "Sign in",
				signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg)), Error: sparekey.ErrorMessage(err)})
			return
		}
		startSession(w, cfg, token)
		http.Redirect(w, r, "/app", http.StatusSeeOther)
	})
}

func handleAppSignOut(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cfg.Residents.SignOut(r.Context(), memberOf(r).session); err != nil {
			cfg.Logger.Error("resident sign-out", "err", err)
		}
		setCookie(w, cfg, residentCookie, "", -1)
		http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
	})
}

// Home, Access, More.

func handleAppHome(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appHome(w, r, cfg, http.StatusOK, operateErrors[r.URL.Query().Get("failed")])
	})
}

func appHome(w http.ResponseWriter, r *http.Request, cfg Config, status int, errMsg string) {
	h, err := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
	if err != nil {
		cfg.Logger.Error("resident home", "err", err)
		render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
		return
	}
	m := memberOf(r)
	p := page{Title: "Home", Tab: "home", Resident: m.resident.FirstName(),
		Data: appPage{CSRF: csrfToken(cfg, m.session), Done: r.URL.Query().Get("done"), Error: errMsg, Data: h}}
	renderPage(w, r, cfg.Logger, status, "app_home", p)
}

func handleAppOperate(cfg Config, unlock bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := cfg.Residents.Operate(r.Context(), memberOf(r).resident.ID, r.PathValue("lock"), unlock)
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("resident lock operation", "err", err)
			}
			// A known failure is said on Home's own address, so that
			// reloading the page does not send the command again.
			if code := sparekey.ErrorCode(err); operateErrors[code] != "" {
				http.Redirect(w, r, "/app?failed="+code, http.StatusSeeOther)
				return
			}
			appHome(w, r, cfg, httpStatus(err), sparekey.ErrorMessage(err))
			return
		}
		done := "locked"
		if unlock {
			done = "unlocked"
		}
		http.Redirect(w, r, "/app?done="+done, http.StatusSeeOther)
	})
}

// operateErrors are what a resident reads when Lock or Unlock fails: fixed
// texts, so they can be translated.
var operateErrors = map[string]string{
	sparekey.ELOCKOFFLINE: "The app can't reach your door right now. Your code and backup codes still work on the keypad.",
	sparekey.ELOCKJAMMED:  "Your door is jammed: no button or code can move the bolt. Push or pull the door toward the frame while you enter your code, or notify maintenance.",
	sparekey.ELOCKTIMEOUT: "The lock didn't answer in time. Try again in a moment.",
	sparekey.ELOCKFAILED:  "The lock refused the command. Try again in a moment.",
	sparekey.EINTERNAL:    "That didn't work on our side. Please try again in a moment.",
}

func handleAppAccess(cfg Config, reveal bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := cfg.Residents.AccessCodes(r.Context(), memberOf(r).resident.ID, reveal, residentVisit(r))
		if err != nil {
			cfg.Logger.Error("resident access", "err", err)
			render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
			return
		}
		renderApp(w, r, cfg, http.StatusOK, "app_access", "Access", "access", a)
	})
}

func handleAppMore(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderApp(w, r, cfg, http.StatusOK, "app_more", "More", "more", nil)
	})
}

// Notify maintenance from the app.

type appReport struct {
	Doors []resident.Door
	Sent  *reportedView
}

func handleAppReportPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
		if err != nil {
			cfg.Logger.Error("resident home", "err", err)
			render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
			return
		}
		renderApp(w, r, cfg, http.StatusOK, "app_report", "Notify maintenance", "more", appReport{Doors: h.Doors})
	})
}

func handleAppReport(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := cfg.Upkeep.Report(r.Context(), upkeep.ResidentReport{ResidentID: memberOf(r).resident.ID,
			Lock: r.PostFormValue("lock"), Note: r.PostFormValue("note"), Via: "app", Language: language(r)})
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("resident report", "err", err)
			}
			h, herr := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
			if herr != nil {
				render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
				return
			}
			m := memberOf(r)
			renderPage(w, r, cfg.Logger, httpStatus(err), "app_report", page{Title: "Notify maintenance", Tab: "more",
				Resident: m.resident.FirstName(), Data: appPage{CSRF: csrfToken(cfg, m.session), Error: sparekey.ErrorMessage(err), Data: appReport{Doors: h.Doors}}})
			return
		}
		renderApp(w, r, cfg, http.StatusOK, "app_report", "Maintenance notified", "more",
			appReport{Sent: &reportedView{Door: rep.LockName, Unit: rep.Unit, ID: rep.WorkOrder.ID, Opened: rep.Opened,
				Working: rep.WorkOrder.Status == sparekey.WorkOrderInProgress}})
	})
}
