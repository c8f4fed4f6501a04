// Package browser drives a headless Chromium from tests, through chromedp,
// so a test can load the web UI as a person's phone or desktop would: follow
// links, fill and submit forms, read text, take screenshots. The browser is
// the one named by SPAREKEY_TEST_CHROMIUM; without it the test is skipped.
// Only tests import it.
//
// Every helper fails the test itself, so a test reads as a list of steps:
//
//	ctx := browser.New(t)
//	browser.Navigate(t, ctx, srv.URL+"/login")
//	browser.SetValue(t, ctx, "input[name=email]", "ann@example.com")
//	browser.ClickAndWait(t, ctx, "button[type=submit]")
//	if got := browser.Text(t, ctx, "h1"); got != "Locks" { ... }
//
// Selectors are CSS selectors; a helper acts on the first match and waits
// for it to appear, up to StepTimeout.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Env is the variable that holds the path of the Chromium binary, e.g.
// /usr/bin/chromium.
const Env = "SPAREKEY_TEST_CHROMIUM"

// StepTimeout bounds one helper call (a navigation, a lookup that waits
// for its element), so a missing element fails the test in seconds and not
// at the end of the whole test's time.
const StepTimeout = 15 * time.Second

// The window sizes: a phone is the default, as most people open the app on
// one. The phone is emulated as a mobile device (at a device pixel ratio of
// 1, to keep screenshots small): it honours <meta name="viewport">, and a
// page without one is laid out 980 px wide and shrunk, as on a real phone.
const (
	phoneWidth, phoneHeight     = 390, 844
	desktopWidth, desktopHeight = 1280, 900
)

type config struct {
	width, height int
	mobile        bool
	noScript      bool
	timeout       time.Duration
}

// An Option changes the browser New starts.
type Option func(*config)

// Desktop makes the window a desktop's 1280×900 instead of a phone's.
func Desktop() Option {
	return func(c *config) { c.width, c.height, c.mobile = desktopWidth, desktopHeight, false }
}

// NoJavaScript turns off the page's scripts, as for a person who has them
// off: the pages must work without them. The helpers still work, as the
// DevTools protocol is not the page's scripts.
func NoJavaScript() Option {
	return func(c *config) { c.noScript = true }
}

// Timeout sets how long the browser may live, for the whole test (60 s by
// default); when it runs out the browser is killed and the helpers fail.
func Timeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// New starts a headless Chromium with a fresh profile for the test and
// returns the context that the other helpers take. The browser is closed
// when the test ends. Without SPAREKEY_TEST_CHROMIUM, or under go test
// -short, the test is skipped.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skips the browser test")
	}
	path := os.Getenv(Env)
	if path == "" {
		t.Skip("browser not tested: set " + Env + " to a Chromium binary, e.g. /usr/bin/chromium")
	}
	cfg := config{width: phoneWidth, height: phoneHeight, mobile: true, timeout: 60 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	// Created before the cleanup below is registered, so it is removed
	// after the browser has exited.
	profile := t.TempDir()

	base, cancelBase := context.WithTimeout(context.Background(), cfg.timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base,
		chromedp.ExecPath(path),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(cfg.width, cfg.height),
	)
	rec := &recorder{}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.listen))
	t.Cleanup(func() {
		// A graceful close lets Chromium's helper processes exit before the
		// profile is removed; the cancels then kill whatever is left and
		// wait for it.
		if err := chromedp.Cancel(ctx); err != nil && ctx.Err() == nil {
			t.Logf("closing the browser: %v", err)
		}
		cancelCtx()
		cancelAlloc()
		cancelBase()
	})

	// Start the browser and its tab now, so a broken Chromium fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	// Chromium's window is at least 500 px wide, so the phone's size is
	// emulated, as DevTools' device mode does.
	viewport := chromedp.EmulateViewport(int64(cfg.width), int64(cfg.height), chromedp.EmulateLandscape)
	if cfg.mobile {
		viewport = chromedp.EmulateViewport(int64(cfg.width), int64(cfg.height), chromedp.EmulatePortrait, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, viewport); err != nil {
		t.Fatalf("setting the window size: %v", err)
	}
	if cfg.noScript {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
			emulation.SetScriptExecutionDisabledParams{Value: true})
		if err != nil {
			t.Fatalf("turning JavaScript off: %v", err)
		}
	}
	return context.WithValue(ctx, recorderKey{}, rec)
}

// fail ends the test for a helper's error, saying what a timeout most
// likely means.
func fail(t testing.TB, what, timeout string, err error) {
	t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: %s within %v", what, timeout, StepTimeout)
	}
	t.Fatalf("%s: %v", what, err)
}

// step runs one helper's action with StepTimeout.
func step[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// Navigate loads url and waits for the page to load. A page that loads
// with an error status still counts as loaded.
func Navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if _, err := step(ctx, chromedp.Navigate(url)); err != nil {
		fail(t, "navigate to "+url, "no page loaded", err)
	}
}

// Text returns the visible text of the first element that matches selector:
// its innerText, with hidden parts left out and whitespace as it is shown;
// "" if the element is not shown at all.
func Text(t testing.TB, ctx context.Context, selector string) string {
	t.Helper()
	s, err := step(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		fail(t, fmt.Sprintf("text of %q", selector), "no such element", err)
	}
	return s
}

// Click clicks the first element that matches selector, once it is
// visible, with the mouse. It does not wait for what the click causes; for
// a link or a submit button use ClickAndWait.
func Click(t testing.TB, ctx context.Context, selector string) {
	t.Helper()
	if _, err := step(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		fail(t, fmt.Sprintf("click %q", selector), "no such visible element", err)
	}
}

// ClickAndWait clicks the first element that matches selector, a link or a
// submit button, waits for the page it leads to to load, and returns that
// page's HTTP status (after redirects, e.g. 200 after a POST's 303).
func ClickAndWait(t testing.TB, ctx context.Context, selector string) int {
	t.Helper()
	resp, err := func() (*network.Response, error) {
		ctx, cancel := context.WithTimeout(ctx, StepTimeout)
		defer cancel()
		return chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(selector)))
	}()
	if err != nil {
		fail(t, fmt.Sprintf("click %q", selector), "no such visible element, or no page loaded after the click,", err)
	}
	if resp == nil {
		t.Fatalf("click %q: the page loaded with no response", selector)
	}
	return int(resp.Status)
}

// SetValue sets the value of the first input, textarea or select that
// matches selector, replacing what it held. It fires no input events: it is
// for forms that are submitted to the server.
func SetValue(t testing.TB, ctx context.Context, selector, value string) {
	t.Helper()
	if _, err := step(ctx, chromedp.SetValue(chromedp.CSS(selector), value)); err != nil {
		fail(t, fmt.Sprintf("set value of %q", selector), "no such element", err)
	}
}

// Screenshot writes a PNG of the whole page, beyond the window, to path,
// creating its folder.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := step(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Location returns the URL of the page the tab shows. It asks the tab's
// history rather than the page, so it works with JavaScript off.
func Location(t testing.TB, ctx context.Context) string {
	t.Helper()
	h, err := step(ctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	if h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		t.Fatalf("location: no current page in a history of %d", len(h.Entries))
	}
	return h.Entries[h.CurrentIndex].URL
}

// Requests returns the URL of every request the tab has sent since New, in
// order: the pages, what they loaded (styles, images, scripts), the forms
// sent, and Chromium's own /favicon.ico. A test can check that none went to
// another host.
func Requests(ctx context.Context) []string {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.urls...)
}

type recorderKey struct{}

// recorder keeps the URLs of the tab's requests.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

// listen runs in chromedp's loop for the tab, for every event: it must
// return fast.
func (r *recorder) listen(ev any) {
	if ev, ok := ev.(*network.EventRequestWillBeSent); ok && ev.Request != nil {
		r.mu.Lock()
		r.urls = append(r.urls, ev.Request.URL)
		r.mu.Unlock()
	}
}
