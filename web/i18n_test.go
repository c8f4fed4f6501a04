package web

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sparekey/locale"
	"sparekey/upkeep"
)

// templateText finds the English text a template passes to t: {{t "…"}}
// and (t "…") inside a pipeline, with a quoted or a raw string.
var templateText = regexp.MustCompile("(?:\\{\\{-?\\s*|\\(\\s*)t\\s+(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)")

// englishOnly tells the staff and developer pages, which are in English
// only and never use t.
func englishOnly(page string) bool {
	return strings.HasPrefix(page, "console_") || page == "outbox"
}

// untranslated are texts that stay the same in every language.
var untranslated = map[string]bool{"Sparekey": true}

// missing collects English texts a language's catalog lacks, each once
// per language, with where it was first seen.
type missing struct {
	seen  map[string]bool
	where []string
}

// check looks text up in the catalog of every language but English.
func (m *missing) check(text, where string) {
	if untranslated[text] {
		return
	}
	for _, lang := range locale.Tags()[1:] {
		if _, ok := locale.Translation(lang, text); ok || m.seen[lang+"\x00"+text] {
			continue
		}
		if m.seen == nil {
			m.seen = map[string]bool{}
		}
		m.seen[lang+"\x00"+text] = true
		m.where = append(m.where, fmt.Sprintf("%s: %s: %q", lang, where, text))
	}
}

func (m *missing) report(t *testing.T, what string) {
	t.Helper()
	if len(m.where) > 0 {
		t.Errorf("%d %s missing from the catalog (locale/<language>.go):\n%s", len(m.where), what, strings.Join(m.where, "\n"))
	}
}

// es is a page's English text in Spanish; the test fails on a text the
// Spanish catalog lacks.
func es(t *testing.T, english string) string {
	t.Helper()
	tr, ok := locale.Translation(locale.Spanish, english)
	if !ok {
		t.Fatalf("no Spanish for %q", english)
	}
	return tr
}

func TestSpanishCatalogCoversTemplates(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	var m missing
	found := 0
	for _, name := range names {
		if englishOnly(strings.TrimSuffix(filepath.Base(name), ".html")) {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, match := range templateText.FindAllStringSubmatch(string(b), -1) {
			text, err := strconv.Unquote(match[1])
			if err != nil {
				t.Errorf("%s: %s: %v", name, match[1], err)
				continue
			}
			found++
			m.check(text, name)
		}
	}
	if found < 50 {
		t.Fatalf("found only %d texts passed to t in the templates: is the pattern still right?", found)
	}
	m.report(t, "template texts")
}

// TestSpanishCatalogCoversGo checks the English the web package's Go code
// hands to the pages: texts passed to translate, the titles of residents'
// pages (render, renderResident and page{Title: …}) and the error messages set
// on a form's page (Error: "…", again(status, "…")).
func TestSpanishCatalogCoversGo(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var m missing
	var titles int
	literal := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	for _, file := range files {
		// The staff console is English only; its pages carry Console or
		// Staff and renderPage does not translate them.
		if strings.HasSuffix(file, "_test.go") || strings.HasPrefix(file, "console") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				id, ok := n.Fun.(*ast.Ident)
				if !ok {
					return true
				}
				where := fset.Position(n.Pos()).String()
				switch id.Name {
				case "translate":
					if len(n.Args) >= 2 {
						if s, ok := literal(n.Args[1]); ok {
							m.check(s, where)
						}
					}
				case "render", "renderResident":
					// render(w, r, log, status, name, title, data)
					// renderResident(w, r, cfg, status, name, title, tab, data)
					if len(n.Args) >= 6 {
						name, _ := literal(n.Args[4])
						if s, ok := literal(n.Args[5]); ok && !englishOnly(name) {
							titles++
							m.check(s, where)
						}
					}
				case "again":
					if len(n.Args) == 2 {
						if s, ok := literal(n.Args[1]); ok {
							m.check(s, where)
						}
					}
				}
			case *ast.KeyValueExpr:
				key, ok := n.Key.(*ast.Ident)
				if !ok || key.Name != "Title" && key.Name != "Error" {
					return true
				}
				if s, ok := literal(n.Value); ok {
					m.check(s, fset.Position(n.Pos()).String())
				}
			}
			return true
		})
	}
	if titles < 10 {
		t.Fatalf("found only %d page titles: is the pattern still right?", titles)
	}
	m.report(t, "texts of the web package's Go code")
}

// TestSpanishCatalogCoversServiceErrors checks the fixed messages of the
// errors residents' pages show (through {{t .Error}}): every literal
// sparekey.Errorf message of the contact, lockout and resident packages,
// and the others residents can meet.
func TestSpanishCatalogCoversServiceErrors(t *testing.T) {
	t.Parallel()
	var m missing
	fset := token.NewFileSet()
	for _, dir := range []string{"../contact", "../lockout", "../resident"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files: %v", dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Errorf" {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "sparekey" {
					return true
				}
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || len(verbs(s)) > 0 || len(call.Args) > 2 {
					return true // formatted: no fixed text to translate
				}
				m.check(s, fset.Position(call.Pos()).String())
				return true
			})
		}
	}
	for _, s := range []string{
		"Internal error.", // sparekey.ErrorMessage of an unexpected error
		// upkeep.Report, from Notify maintenance.
		"This account has moved out.",
		"No such lock on your unit.",
		fmt.Sprintf("The note is too long: keep it under %d characters.", upkeep.MaxNoteLength),
		// resident.Use.How, on Access.
		"access code",
		"backup code",
	} {
		m.check(s, "service")
	}
	m.report(t, "service texts")
}

var verbRE = regexp.MustCompile(`%[-+# 0]*(?:\[\d+\])?(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[a-zA-Z%]`)

// verbs lists a format's fmt verbs in order.
func verbs(format string) []string {
	return verbRE.FindAllString(format, -1)
}

func TestAcceptLanguage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ header, want string }{
		{"es-MX,es;q=0.9,en;q=0.8", "es"},
		{"en-US,en;q=0.9,es;q=0.8", "en"},
		{"zz-ZZ,es;q=0.5", "es"}, // zz: a language there is none of
		{"", "en"},
		{"zz", "en"},
		{";;q=,,=;;,\x00\xff garbage", "en"},
		{"es;q=0, en", "en"},
		{"ES", "es"},
		{"es-419", "es"},
		{"en;q=0.3, es;q=0.7", "es"},
	} {
		if got := acceptLanguage(tc.header); got != tc.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestPagesInSpanish(t *testing.T) {
	t.Parallel()
	srv, fl := newTestServer(t, nil)
	spanishPage := func(t *testing.T, body string) {
		t.Helper()
		if !strings.Contains(body, `<html lang="es">`) {
			t.Errorf("not a Spanish page:\n%s", body)
		}
	}

	// The browser asks for Spanish.
	resp, body := send(t, srv, "GET", "/support/locked-out", "", "", "Accept-Language", "es-MX,es;q=0.9,en;q=0.8")
	if resp.StatusCode != 200 {
		t.Fatalf("wizard: %d", resp.StatusCode)
	}
	spanishPage(t, body)
	for _, want := range []string{
		"<h1>" + es(t, "I'm locked out") + "</h1>",
		"<title>" + es(t, "I'm locked out") + " · Sparekey</title>",
		es(t, "The keypad flashes 1 3 5 7 9 in an X"),
		`href="/support/locked-out?lang=en"`,
		`hreflang="en">English</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("Spanish wizard lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "What do you see at the door?") {
		t.Errorf("Spanish wizard still has English text:\n%s", body)
	}
	if !slices.Contains(resp.Header.Values("Vary"), "Accept-Language") {
		t.Errorf("Vary: %q, want Accept-Language", resp.Header.Values("Vary"))
	}

	// The switcher: ?lang=es picks Spanish over the browser and keeps it
	// in a cookie.
	resp, body = send(t, srv, "GET", "/support/locked-out?lang=es&step=jammed", "", "", "Accept-Language", "en-US,en;q=0.9")
	spanishPage(t, body)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == langCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "es" || cookie.Path != "/" || !cookie.HttpOnly {
		t.Fatalf("?lang=es set cookie %v, want %s=es", cookie, langCookie)
	}
	if !strings.Contains(body, "<h1>"+es(t, "Your lock is jammed")+"</h1>") {
		t.Errorf("jammed step not in Spanish:\n%s", body)
	}
	// The switcher keeps the step and offers English.
	if !strings.Contains(body, `href="/support/locked-out?lang=en&amp;step=jammed"`) {
		t.Errorf("switcher does not keep the step:\n%s", body)
	}

	// The cookie wins over the browser's English.
	_, body = send(t, srv, "GET", "/support/locked-out", "", "", "Accept-Language", "en", "Cookie", langCookie+"=es")
	spanishPage(t, body)
	if !strings.Contains(body, "<h1>"+es(t, "I'm locked out")+"</h1>") || !strings.Contains(body, `href="/support/locked-out?lang=en"`) {
		t.Errorf("cookie sk_lang=es did not give the Spanish page:\n%s", body)
	}

	// ?lang=en switches back, and the page offers Spanish.
	resp, body = send(t, srv, "GET", "/support/locked-out?lang=en", "", "", "Accept-Language", "es", "Cookie", langCookie+"=es")
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "<h1>I&#39;m locked out</h1>") ||
		!strings.Contains(body, `href="/support/locked-out?lang=es"`) || !strings.Contains(body, ">Español</a>") {
		t.Errorf("?lang=en did not give the English page:\n%s", body)
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].Value != "en" {
		t.Errorf("?lang=en set cookies %v", c)
	}

	// Get Code in Spanish: the form, its error and its confirmation.
	_, body = send(t, srv, "GET", "/support/locked-out/code", "", "", "Accept-Language", "es")
	spanishPage(t, body)
	if !strings.Contains(body, es(t, "Get Code")) || !strings.Contains(body, es(t, "Email or phone number")) {
		t.Errorf("Get Code form not in Spanish:\n%s", body)
	}
	form := "application/x-www-form-urlencoded"
	resp, body = send(t, srv, "POST", "/support/locked-out/code", form, "contact="+url.QueryEscape("ana@"), "Accept-Language", "es")
	spanishPage(t, body)
	if resp.StatusCode != 400 || !strings.Contains(body, es(t, "That email address doesn't look right. Check it and try again.")) {
		t.Errorf("bad contact: %d, want the Spanish error:\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/support/locked-out/code", form, "contact=a%40example.com&contact=b%40example.com", "Cookie", langCookie+"=es")
	if resp.StatusCode != 400 || !strings.Contains(body, es(t, "Enter one email address or phone number.")) {
		t.Errorf("repeated field: %d, want the Spanish error:\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, srv, "POST", "/support/locked-out/code", form, "contact="+url.QueryEscape("(201) 555-0101"), "Accept-Language", "es-MX")
	spanishPage(t, body)
	for _, want := range []string{
		"<h1>" + es(t, "Check your phone and email") + "</h1>",
		es(t, "If that matches an account, we just sent a link by text message to the phone on the account and by email to its email address."),
		es(t, "The link works for 30 minutes after your request. After that, ask again."),
	} {
		if resp.StatusCode != 202 || !strings.Contains(body, want) {
			t.Errorf("Get Code confirmation: %d, lacks %q:\n%s", resp.StatusCode, want, body)
		}
	}
	if len(fl.contacts) != 1 {
		t.Errorf("service got %v, want the one good request", fl.contacts)
	}

	// The backup link page counts its minutes in Spanish.
	// (the minutes may sit in a span for app.js's countdown).
	_, body = send(t, srv, "GET", "/b/good", "", "", "Accept-Language", "es")
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, "")
	if want := fmt.Sprintf(es(t, "This link expires in %s."), fmt.Sprintf(es(t, "%d minutes"), 20)); !strings.Contains(text, want) {
		t.Errorf("link page lacks %q:\n%s", want, body)
	}
}

func TestMinutesLeftInSpanish(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{30 * time.Second, "menos de un minuto"},
		{90 * time.Second, "1 minuto"},
		{29*time.Minute + 59*time.Second, "30 minutos"}, // just after the request
		{29*time.Minute + 20*time.Second, "29 minutos"},
	} {
		if got := minutesLeft("es", now, now.Add(tc.left)); got != tc.want {
			t.Errorf("minutesLeft(es, %v) = %q, want %q", tc.left, got, tc.want)
		}
	}
}

// Spanish pages write times as Spanish does: "3:04 p. m.", "26 nov, 9:05 a. m.".
func TestSpanishTimes(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	fm := timeFuncs(locale.Spanish)
	clock, when, at := fm["clock"].(func(*time.Location, *time.Time) string), fm["when"].(func(*time.Location, any) string), fm["at"].(func(*time.Location, *time.Time) string)
	pm, am := time.Date(2026, 11, 26, 20, 4, 0, 0, time.UTC), time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
	one := time.Date(2026, 11, 26, 18, 27, 0, 0, time.UTC)
	if got := clock(ny, &pm); got != "3:04 p. m." {
		t.Errorf("clock = %q, want 3:04 p. m.", got)
	}
	if got := when(ny, am); got != "26 nov, 9:05 a. m." {
		t.Errorf("when = %q, want 26 nov, 9:05 a. m.", got)
	}
	if got := clock(ny, nil); got != "" {
		t.Errorf("clock(nil) = %q, want nothing", got)
	}
	if got := at(ny, &one); got != "a la 1:27 p. m." {
		t.Errorf("at = %q, want a la 1:27 p. m.", got)
	}
	if got := at(ny, &pm); got != "a las 3:04 p. m." {
		t.Errorf("at = %q, want a las 3:04 p. m.", got)
	}
}
