package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
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
	for _, lang := range languages {
		out[lang] = map[string]*template.Template{}
		fm := template.FuncMap{"t": func(text string, args ...any) string { return translate(lang, text, args...) }}
		for k, v := range funcs {
			fm[k] = v
		}
		if lang == "es" {
			fm["when"], fm["clock"], fm["at"] = whenSpanish, clockSpanish, atSpanish
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
	"linkify": linkify,
	// when writes a time in a location as the console shows it.
	"when": func(loc *time.Location, t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.In(loc).Format("Jan 2, 3:04 PM")
		case *time.Time:
			if v != nil {
				return v.In(loc).Format("Jan 2, 3:04 PM")
			}
		}
		return ""
	},
	// clock writes a time of day in a location: "3:04 PM".
	"clock": func(loc *time.Location, t *time.Time) string {
		if t == nil {
			return ""
		}
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc).Format("3:04 PM")
	},
	// at writes a time of day as the end of a sentence says it: "at 3:04 PM".
	"at": func(loc *time.Location, t *time.Time) string {
		if t == nil {
			return ""
		}
		if loc == nil {
			loc = time.UTC
		}
		return "at " + t.In(loc).Format("3:04 PM")
	},
	"words":     func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
	"lines":     func(s string) []string { return strings.Split(s, "\n") },
	"firstline": func(s string) string { line, _, _ := strings.Cut(s, "\n"); return line },
	"add":       func(a, b int) int { return a + b },
	"hasPrefix": strings.HasPrefix,
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

	// Set by renderPage: the page's language and the link to the other.
	Lang, SwitchHref, SwitchName string
	// Resident is the signed-in resident's first name, "" when nobody is.
	Resident string
	// Tab is the resident app's bottom bar tab: home, access or more.
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
		p.Lang = languages[0]
	} else {
		p.Title = translate(p.Lang, p.Title)
		p.SwitchHref, p.SwitchName = switchTo(r, p.Lang)
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

// clockSpanish is the clock template function for Spanish pages: "3:04 p. m.".
func clockSpanish(loc *time.Location, t *time.Time) string {
	if t == nil {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return spanishTime(t.In(loc))
}

// atSpanish is the at template function for Spanish pages: "a la 1:04
// a. m.", "a las 3:04 p. m.". The abbreviation's period ends the sentence
// too, so Spanish texts put no period after it.
func atSpanish(loc *time.Location, t *time.Time) string {
	if t == nil {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	at, article := t.In(loc), "a las "
	if at.Hour()%12 == 1 {
		article = "a la "
	}
	return article + spanishTime(at)
}

// spanishTime is a time of day as Spanish writes it: "3:04 p. m.".
func spanishTime(t time.Time) string {
	if t.Hour() < 12 {
		return t.Format("3:04") + " a. m."
	}
	return t.Format("3:04") + " p. m."
}

// whenSpanish is the when template function for Spanish pages: "26 nov, 3:04 p. m.".
func whenSpanish(loc *time.Location, t any) string {
	var at time.Time
	switch v := t.(type) {
	case time.Time:
		at = v
	case *time.Time:
		if v == nil {
			return ""
		}
		at = *v
	default:
		return ""
	}
	at = at.In(loc)
	months := [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"}
	return fmt.Sprintf("%d %s, %s", at.Day(), months[at.Month()-1], spanishTime(at))
}
