package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sparekey/internal/browser"
)

// The staff console in a real browser, at a phone's size: what the
// maintenance team does with a door that keeps jamming, from the sign-in
// page to the resolved work order, and a look at every other page.
//
// Set SPAREKEY_SCREENSHOTS to a folder to keep a PNG of each console page
// there, e.g. docs/screenshots; without it they go to a temporary folder,
// so a plain test run never writes into the repository:
//
//	SPAREKEY_TEST_CHROMIUM=/usr/bin/chromium SPAREKEY_SCREENSHOTS=$PWD/docs/screenshots \
//		go test -count=1 -run TestConsoleInBrowser ./cmd/sparekey/

// screenshotsEnv names the folder the console's screenshots are kept in.
const screenshotsEnv = "SPAREKEY_SCREENSHOTS"

// The demo's door that the tests jam, and the accounts that sign in.
const (
	jammedDoor  = "unit-101-front"
	maintenance = "maintenance@example.com"
	manager     = "manager@example.com"
	demoSecret  = "demo-password"
	resolution  = "Planed the door edge and moved the strike plate 2 mm."
)

// consoleTab is one browser tab on the console of a test server.
type consoleTab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // folder for screenshots; "" takes none
}

func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browser.New(t) // first: it skips the test without a browser
	s := startServer(t)
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	}
	c := &consoleTab{t: t, ctx: ctx, base: s.base, shots: shots}
	jamUntilWorkOrder(s)

	// Not signed in: the console sends the person to sign in first.
	c.open("/console/work-orders", "Staff sign-in")
	c.wantLocation("/console/sign-in?next=" + url.QueryEscape("/console/work-orders"))
	c.shot("console-signin.png")
	c.signIn(maintenance, "/console/work-orders")

	// The list holds the order the jams opened.
	if got, want := browser.Text(t, ctx, "article.wo h2"), "#1 Front door, unit 101"; got != want {
		t.Errorf("first work order in the list = %q, want %q", got, want)
	}
	if got := browser.Text(t, ctx, "article.wo .meta"); !strings.HasPrefix(got, "3 jams · opened ") {
		t.Errorf("work order's line = %q, want 3 jams", got)
	}
	c.shot("console-work-orders.png")

	c.follow("article.wo h2 a", "/console/work-orders/1", "#1 Front door, unit 101")
	c.wantStatus("open")
	if got, want := c.fact("Jams"), "3 on this order · 3 in the last 30 days"; got != want {
		t.Errorf("Jams = %q, want %q", got, want)
	}
	// Each jam of the dev endpoint clears the one before it.
	jams := browser.Text(t, ctx, "main table.grid tbody")
	if got := strings.Count(jams, "reported by the lock"); got != 3 {
		t.Errorf("jam history has %d jams, want 3:\n%s", got, jams)
	}
	if got := strings.Count(jams, "not cleared"); got != 1 {
		t.Errorf("jam history has %d uncleared jams, want the last one:\n%s", got, jams)
	}
	c.shot("console-work-order.png")

	c.update("in_progress", "")
	c.wantLocation("/console/work-orders/1?done=updated")
	c.wantFlash("Work order updated.")
	c.wantStatus("in progress")

	// Resolving needs a word on what was done; the form says so and
	// nothing changes.
	browser.Click(t, ctx, "input[name=status][value=resolved]")
	if status := browser.ClickAndWait(t, ctx, "main form.form button[type=submit]"); status != http.StatusBadRequest {
		t.Errorf("resolve without a resolution: status %d, want %d", status, http.StatusBadRequest)
	}
	if got, want := browser.Text(t, ctx, "#wo-error"), "Not saved: Say what was done to resolve it (the resolution note). Back to the form"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	c.wantStatus("in progress")

	c.update("resolved", resolution)
	c.wantFlash("Work order updated.")
	c.wantStatus("resolved")
	if got := c.fact("Resolved"); !strings.HasSuffix(got, ": "+resolution) {
		t.Errorf("Resolved = %q, want it to end with the resolution", got)
	}
	if got := browser.Text(t, ctx, "ol.timeline"); !strings.Contains(got, resolution) {
		t.Errorf("timeline lacks the resolution:\n%s", got)
	}
	c.shot("console-work-order-resolved.png")

	// Lock health leads to the door's history and its chart.
	c.open("/console/locks", "Lock health")
	if got := browser.Text(t, ctx, "table.locks"); !strings.Contains(got, jammedDoor) || !strings.Contains(got, "jammed") {
		t.Errorf("lock health lacks the jammed door:\n%s", got)
	}
	c.shot("console-locks.png")
	c.follow("a[href='/console/locks/"+jammedDoor+"']", "/console/locks/"+jammedDoor, "Front door, unit 101")
	// The order for those jams was resolved above: they count, but none
	// since the fix.
	if got := c.fact("Jams, last 30 days"); got != "3 (0 since work order #1 was resolved)" {
		t.Errorf("Jams, last 30 days = %q, want 3, none since the fix", got)
	}
	desc := c.textContent("figure.chart > svg[role=img] > desc")
	if !strings.HasPrefix(desc, "Jams per week over the last ") || !strings.Contains(desc, ": 3 in all, at most 3 in one week.") {
		t.Errorf("chart's description = %q, want 3 jams in all", desc)
	}
	if got := browser.Text(t, ctx, "figure.chart figcaption"); got != desc {
		t.Errorf("chart's caption = %q, want its description %q", got, desc)
	}
	c.shot("console-door.png")

	c.signOut()
	c.signIn(manager, "/console/work-orders")
	c.open("/console/residents", "Residents")
	c.shot("console-residents.png")

	// The audit log, filtered to the work order's changes.
	c.open("/console/audit", "Audit log")
	browser.Click(t, ctx, "details summary") // the filters start folded away
	browser.SetValue(t, ctx, "#action", "work_order.")
	c.submit("form.filters-form button[type=submit]", http.StatusOK)
	c.wantLocation("/console/audit?action=work_order.&actor=&subject=&from=&to=")
	rows := browser.Text(t, ctx, "table.audit tbody")
	for _, want := range []string{"work_order.opened", "work_order.updated"} {
		if !strings.Contains(rows, want) {
			t.Errorf("audit rows lack %s:\n%s", want, rows)
		}
	}
	if strings.Contains(rows, "staff.") || strings.Contains(rows, "Nothing matches.") {
		t.Errorf("audit rows filtered by work_order. hold others:\n%s", rows)
	}
	c.shot("console-audit.png")

	c.open("/console/settings", "Settings")
	if got := browser.Text(t, ctx, "main section.card h2"); got != "Jam rule for Maple Court Apartments" {
		t.Errorf("settings heading = %q", got)
	}
	c.shot("console-settings.png")

	c.onlyServer()
}

// TestConsoleInBrowserWithoutJavaScript signs in and resolves the work
// order with scripts off: the console needs none.
func TestConsoleInBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	ctx := browser.New(t, browser.NoJavaScript())
	s := startServer(t)
	c := &consoleTab{t: t, ctx: ctx, base: s.base}
	jamUntilWorkOrder(s)

	// A link to the work order, followed while signed out, comes back to
	// it after signing in.
	c.open("/console/work-orders/1", "Staff sign-in")
	c.signIn(maintenance, "/console/work-orders/1")
	c.wantStatus("open")
	c.update("resolved", resolution)
	c.wantFlash("Work order updated.")
	c.wantStatus("resolved")
	if got := c.fact("Resolved"); !strings.HasSuffix(got, ": "+resolution) {
		t.Errorf("Resolved = %q, want it to end with the resolution", got)
	}
	c.signOut()
	c.onlyServer()
}

// jamUntilWorkOrder jams the demo's door three times, which its property's
// jam rule turns into work order 1.
func jamUntilWorkOrder(s *testServer) {
	s.t.Helper()
	for range 3 {
		s.json("POST", "/api/v1/dev/locks/"+jammedDoor+"/state", `{"jammed":true}`, http.StatusOK, nil)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var orders []struct {
			ID       int64  `json:"id"`
			Lock     string `json:"lock"`
			JamCount int    `json:"jam_count"`
		}
		s.json("GET", "/api/v1/work-orders?status=open", "", http.StatusOK, &orders)
		if len(orders) == 1 && orders[0].ID == 1 && orders[0].Lock == jammedDoor && orders[0].JamCount == 3 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after 3 jams, open work orders = %+v, want #1 for %s with 3 jams\n%s", orders, jammedDoor, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads a console page and checks its heading.
func (c *consoleTab) open(path, h1 string) {
	c.t.Helper()
	browser.Navigate(c.t, c.ctx, c.base+path)
	c.wantHeading(h1)
}

// follow clicks a link and checks the page it leads to.
func (c *consoleTab) follow(selector, path, h1 string) {
	c.t.Helper()
	c.submit(selector, http.StatusOK)
	c.wantLocation(path)
	c.wantHeading(h1)
}

// submit clicks a link or submit button and checks the status of the page
// it leads to.
func (c *consoleTab) submit(selector string, want int) {
	c.t.Helper()
	if got := browser.ClickAndWait(c.t, c.ctx, selector); got != want {
		c.t.Fatalf("click %q: status %d, want %d\n%s", selector, got, want, browser.Text(c.t, c.ctx, "main"))
	}
}

// signIn fills the sign-in form that is shown and checks where it leads.
func (c *consoleTab) signIn(email, next string) {
	c.t.Helper()
	c.wantHeading("Staff sign-in")
	browser.SetValue(c.t, c.ctx, "#email", email)
	browser.SetValue(c.t, c.ctx, "#password", demoSecret)
	c.submit("main form button[type=submit]", http.StatusOK)
	c.wantLocation(next)
	if got := browser.Text(c.t, c.ctx, "header .who span"); !strings.HasSuffix(got, strings.TrimSuffix(email, "@example.com")) {
		c.t.Errorf("signed in as %s, the header says %q", email, got)
	}
}

func (c *consoleTab) signOut() {
	c.t.Helper()
	c.submit("header form button[type=submit]", http.StatusOK)
	c.wantLocation("/console/sign-in")
	c.wantHeading("Staff sign-in")
}

// update changes the shown work order's status, with a resolution if
// given, and saves it.
func (c *consoleTab) update(status, resolution string) {
	c.t.Helper()
	browser.Click(c.t, c.ctx, "input[name=status][value="+status+"]")
	if resolution != "" {
		browser.SetValue(c.t, c.ctx, "#resolution", resolution)
	}
	c.submit("main form.form button[type=submit]", http.StatusOK)
}

func (c *consoleTab) wantHeading(want string) {
	c.t.Helper()
	if got := browser.Text(c.t, c.ctx, "main h1"); got != want {
		c.t.Fatalf("page %s has heading %q, want %q", browser.Location(c.t, c.ctx), got, want)
	}
}

// wantLocation checks the tab's URL, given from the path on.
func (c *consoleTab) wantLocation(path string) {
	c.t.Helper()
	if got := browser.Location(c.t, c.ctx); got != c.base+path {
		c.t.Fatalf("location = %s, want %s", got, c.base+path)
	}
}

func (c *consoleTab) wantFlash(want string) {
	c.t.Helper()
	if got := browser.Text(c.t, c.ctx, "main .flash"); got != want {
		c.t.Errorf("flash = %q, want %q", got, want)
	}
}

// wantStatus checks the work order's status as shown: the badge
// capitalizes it, so the page's words are compared without case.
func (c *consoleTab) wantStatus(want string) {
	c.t.Helper()
	if got := browser.Text(c.t, c.ctx, "main p .status"); !strings.EqualFold(got, want) {
		c.t.Errorf("status = %q, want %q", got, want)
	}
}

// fact is the value of a term in the page's list of facts.
func (c *consoleTab) fact(term string) string {
	c.t.Helper()
	lines := strings.Split(browser.Text(c.t, c.ctx, "dl.facts"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == term && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	c.t.Fatalf("no %q in the facts:\n%s", term, strings.Join(lines, "\n"))
	return ""
}

// textContent is the text of an element that is not shown as text, such as
// an SVG's description, which the harness's Text (innerText) cannot read.
func (c *consoleTab) textContent(selector string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browser.StepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(selector)))
	if err != nil {
		c.t.Fatalf("text content of %q: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

// shot saves a full-page screenshot of the tab, if the test keeps them.
func (c *consoleTab) shot(name string) {
	c.t.Helper()
	if c.shots != "" {
		browser.Screenshot(c.t, c.ctx, filepath.Join(c.shots, name))
	}
}

// onlyServer checks that nothing the console's pages loaded came from
// anywhere but the test server: no fonts, scripts or trackers elsewhere.
// data: URLs go to no host; Chromium draws its own date picker's icon
// with one.
func (c *consoleTab) onlyServer() {
	c.t.Helper()
	reqs := browser.Requests(c.ctx)
	if len(reqs) == 0 {
		c.t.Fatal("the browser recorded no requests")
	}
	for _, u := range reqs {
		if !strings.HasPrefix(u, c.base+"/") && !strings.HasPrefix(u, "data:") {
			c.t.Errorf("request to another host than the test server %s: %s", c.base, u)
		}
	}
}
