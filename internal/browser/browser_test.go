package browser_test

import (
	"bytes"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sparekey/internal/browser"
)

// newSite serves a form (GET /), its action (POST /greet, which redirects
// as the app does), the result (GET /hello) and a page whose script
// changes its text (GET /script).
func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>test</title>` +
			`<meta name="viewport" content="width=device-width"></head><body>` + body + `</body></html>`))
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<h1>Sign the book</h1>
<form method="post" action="/greet">
  <label>Name <input name="name"></label>
  <label>Colour <select name="colour"><option>red</option><option>green</option></select></label>
  <button type="submit">Sign</button>
</form>
<a href="/hello?name=nobody&colour=none" id="skip">skip</a>`)
	})
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"name": {r.PostFormValue("name")}, "colour": {r.PostFormValue("colour")}}
		http.Redirect(w, r, "/hello?"+q.Encode(), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<h1 id="greeting">Hello, `+html.EscapeString(r.FormValue("name"))+`</h1>`+
			`<p id="colour">`+html.EscapeString(r.FormValue("colour"))+`</p>`+
			`<p id="hidden" style="display:none">secret</p>`)
	})
	mux.HandleFunc("GET /script", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p id="msg">static</p>
<script>document.getElementById("msg").textContent = "scripted";</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFormFlow(t *testing.T) {
	t.Parallel()
	ctx := browser.New(t)
	srv := newSite(t)

	browser.Navigate(t, ctx, srv.URL+"/")
	if got, want := browser.Location(t, ctx), srv.URL+"/"; got != want {
		t.Errorf("location %q, want %q", got, want)
	}
	if got := browser.Text(t, ctx, "h1"); got != "Sign the book" {
		t.Errorf("h1 %q", got)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("window.innerWidth")); err != nil || w != 390 {
		t.Errorf("phone window is %d px wide (%v), want 390", w, err)
	}

	browser.SetValue(t, ctx, "input[name=name]", "Ann & Bo")
	browser.SetValue(t, ctx, "select[name=colour]", "green")
	if status := browser.ClickAndWait(t, ctx, "button[type=submit]"); status != http.StatusOK {
		t.Errorf("status %d after submitting", status)
	}
	if got, want := browser.Location(t, ctx), srv.URL+"/hello?colour=green&name=Ann+%26+Bo"; got != want {
		t.Errorf("location %q, want %q", got, want)
	}
	if got := browser.Text(t, ctx, "#greeting"); got != "Hello, Ann & Bo" {
		t.Errorf("greeting %q", got)
	}
	if got := browser.Text(t, ctx, "#colour"); got != "green" {
		t.Errorf("colour %q", got)
	}
	if got := browser.Text(t, ctx, "#hidden"); got != "" {
		t.Errorf("hidden text %q is visible", got)
	}

	path := filepath.Join(t.TempDir(), "new", "dir", "hello.png")
	browser.Screenshot(t, ctx, path)
	shot, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if cfg.Width != 390 || cfg.Height < 844 {
		t.Errorf("screenshot is %d×%d, want 390 wide and at least 844 high", cfg.Width, cfg.Height)
	}

	reqs := browser.Requests(ctx)
	if len(reqs) < 3 { // the form, the POST, the redirect target
		t.Errorf("requests: %q", reqs)
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r, srv.URL+"/") {
			t.Errorf("request to another host: %s", r)
		}
	}
}

func TestLinkAndClick(t *testing.T) {
	t.Parallel()
	ctx := browser.New(t, browser.Desktop())
	srv := newSite(t)

	browser.Navigate(t, ctx, srv.URL+"/")
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("window.innerWidth")); err != nil || w != 1280 {
		t.Errorf("desktop window is %d px wide (%v), want 1280", w, err)
	}
	browser.Click(t, ctx, "input[name=name]") // no navigation: returns at once
	if status := browser.ClickAndWait(t, ctx, "#skip"); status != http.StatusOK {
		t.Errorf("status %d after following the link", status)
	}
	if got := browser.Text(t, ctx, "#greeting"); got != "Hello, nobody" {
		t.Errorf("greeting %q", got)
	}
}

func TestJavaScript(t *testing.T) {
	t.Parallel()
	srv := newSite(t)

	t.Run("on", func(t *testing.T) {
		t.Parallel()
		ctx := browser.New(t)
		browser.Navigate(t, ctx, srv.URL+"/script")
		if got := browser.Text(t, ctx, "#msg"); got != "scripted" {
			t.Errorf("with JavaScript on the text is %q, want the script's", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		ctx := browser.New(t, browser.NoJavaScript())
		browser.Navigate(t, ctx, srv.URL+"/script")
		if got := browser.Text(t, ctx, "#msg"); got != "static" {
			t.Errorf("with JavaScript off the text is %q, want the page's own", got)
		}
		// The form still works, and so do the helpers.
		browser.Navigate(t, ctx, srv.URL+"/")
		browser.SetValue(t, ctx, "input[name=name]", "Cy")
		browser.ClickAndWait(t, ctx, "button[type=submit]")
		if got := browser.Text(t, ctx, "#greeting"); got != "Hello, Cy" {
			t.Errorf("greeting %q", got)
		}
		if got := browser.Location(t, ctx); !strings.HasPrefix(got, srv.URL+"/hello?") {
			t.Errorf("location %q", got)
		}
		browser.Navigate(t, ctx, srv.URL+"/script") // still off after navigating
		if got := browser.Text(t, ctx, "#msg"); got != "static" {
			t.Errorf("with JavaScript off the text is %q after navigating", got)
		}
	})
}

// Without SPAREKEY_TEST_CHROMIUM a browser test is skipped, not failed.
func TestSkipsWithoutChromium(t *testing.T) {
	t.Setenv(browser.Env, "")
	var skipped bool
	t.Run("browser", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		browser.New(t)
		t.Error("New returned without " + browser.Env)
	})
	if !skipped {
		t.Error("not skipped")
	}
}
