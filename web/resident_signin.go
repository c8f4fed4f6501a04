package web

import (
	"net/http"
	"strings"
	"time"

	"sparekey"
	"sparekey/secret"
)

// Resident sign-in: a code or a link sent to the account's phone and
// email; the typed code works only in the browser that asked for it.

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

func handleResidentSignInPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signedIn(cfg, r) != nil {
			http.Redirect(w, r, "/app", http.StatusSeeOther)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "app_signin", "Sign in", signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg))})
	})
}

func handleResidentSignIn(cfg Config, limit *windowLimiter) http.Handler {
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

func handleResidentCodePage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(signInCookie); err != nil {
			http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "app_code", "Enter your code", signInPage{CSRF: csrfToken(cfg, preToken(w, r, cfg))})
	})
}

func handleResidentCode(cfg Config) http.Handler {
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

// handleResidentLinkPage shows the sign-in link's button: a GET signs nobody in
// (mail scanners follow links), the POST does.
func handleResidentLinkPage(cfg Config) http.Handler {
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

func handleResidentLink(cfg Config) http.Handler {
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

func handleResidentSignOut(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cfg.Residents.SignOut(r.Context(), memberOf(r).session); err != nil {
			cfg.Logger.Error("resident sign-out", "err", err)
		}
		setCookie(w, cfg, residentCookie, "", -1)
		http.Redirect(w, r, "/app/sign-in", http.StatusSeeOther)
	})
}
