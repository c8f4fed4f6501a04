package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"sparekey/internal/browser"
)

// newAxeSite serves a page that passes WCAG 2.2 AA (/clean), one with an
// image without alternative text (/bad) and one whose script renames its
// heading (/script), all under a CSP as strict as the app's: no inline or
// foreign script may run.
func newAxeSite(t *testing.T) *httptest.Server {
	t.Helper()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src data:")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>axe test</title>`+
				`<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><h1>Door</h1>%s</main></body></html>`, body)
		}
	}
	const pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
	mux := http.NewServeMux()
	mux.Handle("GET /clean", page(`<p>The door is locked.</p><img src="`+pixel+`" alt="A locked door">`))
	mux.Handle("GET /bad", page(`<p>The door is locked.</p><img id="door" src="`+pixel+`">`))
	mux.Handle("GET /script", page(`<script src="/script.js"></script>`))
	mux.HandleFunc("GET /script.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(`document.querySelector("h1").textContent = "Scripted";`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// axe-core really runs in the page, despite the CSP and with the page's
// JavaScript off: it finds the missing alt, and nothing on a clean page.
func TestAxeViolations(t *testing.T) {
	t.Parallel()
	srv := newAxeSite(t)
	for _, tc := range []struct {
		name    string
		opts    []browser.Option
		heading string // of /script
	}{
		{"javascript on", nil, "Scripted"},
		{"javascript off", []browser.Option{browser.NoJavaScript()}, "Door"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := browser.New(t, tc.opts...)
			browser.Navigate(t, ctx, srv.URL+"/bad")
			for range 2 { // the second run finds axe already loaded
				vs, err := browser.AxeViolations(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(vs) != 1 || vs[0].ID != "image-alt" || vs[0].Impact != "critical" ||
					len(vs[0].Nodes) != 1 || vs[0].Nodes[0].Target != "#door" {
					t.Fatalf("violations on /bad = %+v, want image-alt on #door", vs)
				}
			}
			browser.Navigate(t, ctx, srv.URL+"/clean")
			vs, err := browser.AxeViolations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 0 {
				t.Fatalf("violations on /clean = %+v, want none", vs)
			}
			// The page's JavaScript is as it was before axe ran.
			browser.Navigate(t, ctx, srv.URL+"/script")
			if _, err := browser.AxeViolations(ctx); err != nil {
				t.Fatal(err)
			}
			browser.Navigate(t, ctx, srv.URL+"/script")
			if got := browser.Text(t, ctx, "h1"); got != tc.heading {
				t.Errorf("after axe, /script's heading is %q, want %q", got, tc.heading)
			}
		})
	}
}

// Axe fails the test with the rule, its impact and help, and the element.
func TestAxeFailsTheTest(t *testing.T) {
	t.Parallel()
	srv := newAxeSite(t)
	ctx := browser.New(t)
	browser.Navigate(t, ctx, srv.URL+"/bad")
	rec := runTB(t, func(tb testing.TB) { browser.Axe(tb, ctx) })
	if len(rec.fatals) != 0 || len(rec.errors) != 1 {
		t.Fatalf("Axe on /bad: errors %q, fatals %q; want one error", rec.errors, rec.fatals)
	}
	for _, want := range []string{"1 WCAG 2.2 AA violations on " + srv.URL + "/bad", "image-alt (critical): Images must have alternative text", "#door: <img id=\"door\""} {
		if !strings.Contains(rec.errors[0], want) {
			t.Errorf("Axe's failure lacks %q:\n%s", want, rec.errors[0])
		}
	}

	browser.Navigate(t, ctx, srv.URL+"/clean")
	if rec := runTB(t, func(tb testing.TB) { browser.Axe(tb, ctx) }); len(rec.errors)+len(rec.fatals) != 0 {
		t.Fatalf("Axe on /clean failed: %q %q", rec.errors, rec.fatals)
	}
}

// Without axe-core a browser test fails, saying how to install it: CI
// must never pass a page that was not checked.
func TestAxeWithoutAxeCore(t *testing.T) {
	t.Setenv(browser.AxeEnv, "")
	rec := runTB(t, func(tb testing.TB) { browser.Axe(tb, context.Background()) })
	if len(rec.fatals) != 1 || !strings.Contains(rec.fatals[0], browser.AxeEnv+" is not set") || !strings.Contains(rec.fatals[0], "npm ci") {
		t.Fatalf("Axe without %s: fatals %q, want one saying how to install axe-core", browser.AxeEnv, rec.fatals)
	}
	t.Setenv(browser.AxeEnv, "/nonexistent/axe.min.js")
	if _, err := browser.AxeViolations(context.Background()); err == nil {
		t.Fatal("AxeViolations with a missing axe.min.js: no error")
	}
}

// recordingTB is a testing.TB that keeps what a helper reports; Fatalf
// ends the helper's goroutine, as the real one does.
type recordingTB struct {
	testing.TB
	mu             sync.Mutex
	errors, fatals []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// runTB runs f with a recordingTB in its own goroutine and returns what f
// reported.
func runTB(t *testing.T, f func(testing.TB)) *recordingTB {
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec
}
