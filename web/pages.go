package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"sparekey/locale"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds, for each language, one template set per page, each with
// the shared layout; the t function translates into that language.
var pages = func() map[string]map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]map[string]*template.Template{}
	for _, lang := range locale.Tags() {
		out[lang] = map[string]*template.Template{}
		fm := template.FuncMap{"t": func(text string, args ...any) string { return translate(lang, text, args...) }}
		for k, v := range funcs {
			fm[k] = v
		}
		for k, v := range timeFuncs(lang) {
			fm[k] = v
		}
		for _, n := range names {
			base := n[len("templates/") : len(n)-len(".html")]
			if base == "layout" || base == "svg" || base == "partials" {
				continue
			}
			out[lang][base] = template.Must(template.New("layout.html").Funcs(fm).ParseFS(templateFS,
				"templates/layout.html", "templates/svg.html", "templates/partials.html", n))
		}
	}
	return out
}()

var funcs = template.FuncMap{
	"linkify":   linkify,
	"words":     func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
	"lines":     func(s string) []string { return strings.Split(s, "\n") },
	"firstline": func(s string) string { line, _, _ := strings.Cut(s, "\n"); return line },
	"add":       func(a, b int) int { return a + b },
	"hasPrefix": strings.HasPrefix,
	// pathescape puts a lock's device in a URL path as one segment: a
	// Z-Wave lock's zwave://HUB/NODE holds slashes.
	"pathescape": url.PathEscape,
	// countdown wraps the time left in a sentence in a span that app.js
	// keeps counting down (and reloads the page at the end).
	"countdown": func(left string, seconds int, sentence string) template.HTML {
		span := fmt.Sprintf(`<span data-expires-in="%d">%s</span>`, seconds, template.HTMLEscapeString(left))
		return template.HTML(strings.Replace(template.HTMLEscapeString(sentence), template.HTMLEscapeString(left), span, 1))
	},
	"half":    func(n int) int { return n / 2 },
	"days":    func(d time.Duration) int { return int(d / (24 * time.Hour)) },
	"minutes": func(d time.Duration) int { return int(d / time.Minute) },
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"']+`)

// linkify escapes text and turns the URLs in it into links, so the dev
// outbox's messages can be clicked through.
func linkify(text string) template.HTML {
	escaped := template.HTMLEscapeString(text)
	return template.HTML(urlRE.ReplaceAllStringFunc(escaped, func(u string) string {
		return `<a href="` + u + `">` + u + `</a>`
	}))
}

// page is the data every page template gets.
type page struct {
	Title   string
	Console *consoleBar // the staff console's header; nil on residents' pages
	Data    any

	// Set by renderPage: the page's language, and the links to the same
	// page in the others.
	Lang   string
	Switch []languageLink
	// Resident is the signed-in resident's first name, "" when nobody is.
	Resident string
	// Tab is the bottom bar tab of a signed-in resident's page: home,
	// access or more.
	Tab string
	// Staff marks a staff page without the console's header (sign-in):
	// English, no resident footer.
	Staff bool
	// OnSignIn: the page is resident sign-in, which the footer need not
	// link to.
	OnSignIn bool
}

// render writes a page with status; it renders into a buffer first so a
// template error becomes a clean 500, never half a page.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, name, title string, data any) {
	renderPage(w, r, log, status, name, page{Title: title, Data: data})
}

// renderPage writes a page in the request's language.
func renderPage(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, name string, p page) {
	p.Lang = language(r)
	if p.Console != nil || p.Staff {
		p.Lang = locale.English
	} else {
		p.Title = translate(p.Lang, p.Title)
		p.Switch = switchLinks(r, p.Lang)
		p.OnSignIn = r != nil && strings.HasPrefix(r.URL.Path, "/app/sign-in")
	}
	var buf bytes.Buffer
	if err := pages[p.Lang][name].Execute(&buf, p); err != nil {
		if log != nil {
			log.Error("render page", "page", name, "err", err)
		}
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			handleNotFound().ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

func handleHomePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, nil, http.StatusOK, "home", "Sparekey", nil)
	})
}

// timeFuncs are the template functions that write times in a location
// (UTC when nil) in lang: when ("Jan 2, 3:04 PM"), clock ("3:04 PM") and
// at ("at 3:04 PM"). A nil time writes nothing.
func timeFuncs(lang string) template.FuncMap {
	in := func(loc *time.Location, t time.Time) time.Time {
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc)
	}
	return template.FuncMap{
		"when": func(loc *time.Location, t any) string {
			switch v := t.(type) {
			case time.Time:
				return locale.When(lang, in(loc, v))
			case *time.Time:
				if v != nil {
					return locale.When(lang, in(loc, *v))
				}
			}
			return ""
		},
		"clock": func(loc *time.Location, t *time.Time) string {
			if t == nil {
				return ""
			}
			return locale.Clock(lang, in(loc, *t))
		},
		"at": func(loc *time.Location, t *time.Time) string {
			if t == nil {
				return ""
			}
			return locale.At(lang, in(loc, *t))
		},
	}
}
