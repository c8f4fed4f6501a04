package web

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"sparekey/locale"
)

// The resident pages speak every language of the locale package:
// templates write English and pass it through t, and the catalog
// translates it (web/i18n_test.go makes sure every text a template uses
// has a translation). The staff console is in English only.

// langCookie remembers a language picked with the switcher.
const langCookie = "sk_lang"

// translate returns the text in lang, the English text when the catalog
// has none, formatted with args when there are any.
func translate(lang, text string, args ...any) string {
	return locale.Text(lang, text, args...)
}

// language picks the page's language: ?lang= (the switcher), then the
// cookie it set, then the browser's Accept-Language, then English.
func language(r *http.Request) string {
	if r == nil {
		return locale.English
	}
	if l := r.URL.Query().Get("lang"); locale.Supported(l) {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && locale.Supported(c.Value) {
		return c.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage returns the supported language the header prefers most
// (es-MX counts as es), or English.
func acceptLanguage(header string) string {
	best, bestQ := locale.English, 0.0
	for i, part := range strings.Split(header, ",") {
		if i > 20 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if locale.Supported(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// rememberLanguage keeps a language picked with ?lang= in a cookie, so the
// next pages (and forms) stay in it.
func rememberLanguage(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := r.URL.Query().Get("lang"); locale.Supported(l) {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: secureCookies(cfg), SameSite: http.SameSiteLaxMode})
		}
		w.Header().Add("Vary", "Accept-Language")
		next.ServeHTTP(w, r)
	})
}

// knowPages tells the language switcher which addresses mux has a page
// for. It must wrap every other layer: a request copied below the access
// log would hide from it the route the router found.
func knowPages(mux *http.ServeMux, next http.Handler) http.Handler {
	hasPage := func(path string) bool {
		_, pattern := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}})
		return pattern != "" && pattern != "/" // "/" is the not-found page
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pagesKey{}, hasPage)))
	})
}

// pagesKey holds, in a request's context, whether a path has a page.
type pagesKey struct{}

// languageLink is a link that shows the page in another language.
type languageLink struct {
	Href, Lang, Name string
}

// switchLinks are the links that show the same page in each of the other
// languages, in the catalog's order.
func switchLinks(r *http.Request, lang string) []languageLink {
	var links []languageLink
	for _, other := range locale.Tags() {
		if other != lang {
			links = append(links, languageLink{Href: switchTo(r, other), Lang: other, Name: locale.Name(other)})
		}
	}
	return links
}

// switchTo is the address of the same page in the language other.
func switchTo(r *http.Request, other string) string {
	if r == nil {
		return "/?lang=" + other
	}
	q := url.Values{}
	for k, v := range r.URL.Query() {
		if k != "lang" {
			q[k] = v
		}
	}
	q.Set("lang", other)
	to := r.URL.Path
	// A page shown in answer to a form (say a refused unlock) may have no
	// page to GET at its address: switch on the nearest one above it.
	if hasPage, ok := r.Context().Value(pagesKey{}).(func(string) bool); ok && r.Method != http.MethodGet && r.Method != http.MethodHead {
		for to != "/" && !hasPage(to) {
			to = path.Dir(to)
		}
		if to != r.URL.Path {
			q = url.Values{"lang": {other}}
		}
	}
	return to + "?" + q.Encode()
}
