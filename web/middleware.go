package web

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"sparekey"
)

// contentSecurityPolicy allows only this origin's stylesheet, script
// (app.js, small progressive touches) and images, and nothing from any
// other host; inline SVG needs no exception, and no inline script runs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries: nothing is cached
// (pages may hold door codes), no referrer leaks a link token, and the page
// loads nothing from third parties.
func securityHeaders(cfg Config, next http.Handler) http.Handler {
	https := strings.HasPrefix(cfg.BaseURL, "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panicking handler into a 500 and a log line, so bad
// input can never take the server down.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panicked", "method", r.Method, "route", r.Pattern, "panic", v)
				writeError(w, r, log, sparekey.Errorf(sparekey.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, route pattern, status and duration. It logs the
// route pattern, never the path, so link tokens stay out of the logs.
// It also hands them to cfg.ObserveRequest.
func logRequests(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		cfg.Logger.Info("http", "method", r.Method, "route", r.Pattern, "status", rec.status, "ms", took.Milliseconds())
		if cfg.ObserveRequest != nil {
			cfg.ObserveRequest(r.Method, r.Pattern, rec.status, took)
		}
	})
}

// devOnly answers 404 unless the server runs with --demo.
func devOnly(cfg Config, next http.Handler) http.Handler {
	if cfg.Dev == nil {
		return handleNotFound()
	}
	return next
}

// fromProxy takes the client's address from X-Forwarded-For when the peer
// is one of the trusted reverse proxies: the rightmost address in the
// header that is not itself a trusted proxy (the leftmost ones are
// whatever the client claimed). Without trusted proxies nothing changes.
func fromProxy(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err == nil && isTrusted(host) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				hop := strings.TrimSpace(hops[i])
				if a, err := netip.ParseAddr(hop); err == nil && !isTrusted(hop) {
					r2 := r.Clone(r.Context())
					r2.RemoteAddr = netip.AddrPortFrom(a.Unmap(), 0).String()
					r = r2
					break
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the peer address that limits count against (see fromProxy
// for a server behind reverse proxies). An IPv6 client is its /64: one subscriber
// usually holds a whole /64, and counting single addresses in it would give
// them 2^64 budgets.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, _ := addr.Prefix(64)
		return prefix.String()
	}
	return addr.String()
}

// crossOrigin refuses state-changing requests that a browser sends from
// another site (CSRF; another site spending its visitors' Get Code budget).
// Requests without browser headers (curl, API clients) pass.
func crossOrigin(cfg Config, next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	if cfg.BaseURL != "" {
		if u, err := url.Parse(cfg.BaseURL); err == nil {
			p.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EFORBIDDEN, "Cross-site requests are not accepted; use the page on this site."))
	}))
	return p.Handler(next)
}

// windowLimiter allows n requests per key in any one minute (a sliding
// window: a burst across a minute's turn gets no second n), in this
// process's memory: a brake on hammering, not an account limit (those live
// in the database).
type windowLimiter struct {
	n     int
	clock sparekey.Clock

	mu    sync.Mutex
	hits  map[string][]time.Time // the times of a key's allowed requests in the last minute, oldest first
	swept time.Time
}

func newWindowLimiter(n int, clock sparekey.Clock) *windowLimiter {
	return &windowLimiter{n: n, clock: clock, hits: map[string][]time.Time{}}
}

func (l *windowLimiter) allow(key string) bool {
	now := l.clock.Now()
	since := now.Add(-time.Minute)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget quiet keys, once a minute
		for k, ts := range l.hits {
			if len(ts) == 0 || !ts[len(ts)-1].After(since) {
				delete(l.hits, k)
			}
		}
		l.swept = now
	}
	ts := l.hits[key]
	for len(ts) > 0 && !ts[0].After(since) {
		ts = ts[1:]
	}
	if len(ts) >= l.n {
		l.hits[key] = ts
		return false
	}
	l.hits[key] = append(ts, now)
	return true
}

// limitLinks brakes guessing and hammering of backup links: each look at a
// link is a write (the audit trail), so it is limited per client.
func limitLinks(cfg Config, l *windowLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(clientIP(r)) {
			w.Header().Set("Retry-After", "60")
			err := sparekey.Errorf(sparekey.ERATELIMITED, "Too many tries from your network. Wait a minute and try again.")
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeError(w, r, cfg.Logger, err)
			} else {
				render(w, r, cfg.Logger, http.StatusTooManyRequests, "error_limited", "Too many tries", nil)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitLinkParam applies the backup link limit to a page that takes a link
// token in ?link= (the wizard): each look at a token is a database lookup
// and an audit line, as on the link's own page.
func limitLinkParam(cfg Config, l *windowLimiter, next http.Handler) http.Handler {
	limited := limitLinks(cfg, l, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("link") != "" {
			limited.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
