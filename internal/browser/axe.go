package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// AxeEnv is the variable that holds the path of axe-core's axe.min.js, the
// accessibility checker the browser tests run on every page. The version
// is pinned by testdata/package-lock.json; .ci/run installs it and sets the
// variable; by hand, from the repository's root:
//
//	npm ci --prefix internal/browser/testdata
//	export SPAREKEY_TEST_AXE=$PWD/internal/browser/testdata/node_modules/axe-core/axe.min.js
const AxeEnv = "SPAREKEY_TEST_AXE"

// AxeTags are the rule sets checked: WCAG 2.0, 2.1 and 2.2 at levels A and
// AA, the level the resident pages promise.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// A Violation is one axe-core rule that the page breaks, with the elements
// that break it.
type Violation struct {
	ID      string `json:"id"`     // the rule, e.g. "image-alt"
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Help    string `json:"help"`   // what the rule asks, in a sentence
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  string `json:"target"`  // a CSS selector for the element
		HTML    string `json:"html"`    // the element's opening tag, as axe shows it
		Summary string `json:"summary"` // how to fix it
	} `json:"nodes"`
}

// String is the violation as a test failure reports it: the rule, its
// impact and help, then each failing element.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s: %s", n.Target, n.HTML)
		if n.Summary != "" {
			fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	return b.String()
}

// axeScripts holds axe.min.js, by path, once read.
var axeScripts sync.Map

// axeScript reads axe.min.js from the path in AxeEnv.
func axeScript() (string, error) {
	path := os.Getenv(AxeEnv)
	if path == "" {
		return "", fmt.Errorf("%s is not set: install axe-core from the npm registry "+
			"(npm ci --prefix internal/browser/testdata) and set %s to its node_modules/axe-core/axe.min.js, as .ci/run does",
			AxeEnv, AxeEnv)
	}
	if s, ok := axeScripts.Load(path); ok {
		return s.(string), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", AxeEnv, err)
	}
	if !strings.Contains(string(b), "axe.run") && !strings.Contains(string(b), "axe-core") {
		return "", fmt.Errorf("%s: %s is not axe-core's axe.min.js", AxeEnv, path)
	}
	axeScripts.Store(path, string(b))
	return string(b), nil
}

// axeRun runs axe on the whole document and returns its violations, each
// failing element's target flattened into one selector string (a target is
// a list of selectors only across iframes and shadow roots). %s is the
// JSON list of tags.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r =>
	r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: [].concat(n.target).flat(Infinity).join(" >> "), html: n.html, summary: n.failureSummary || ""}))})))`

// AxeViolations loads axe-core into the page the tab shows, if it is not
// there yet, runs it with AxeTags and returns what it finds. The script is
// evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern, and it runs with the page's
// JavaScript turned off (NoJavaScript) too.
func AxeViolations(ctx context.Context) (vs []Violation, err error) {
	script, err := axeScript()
	if err != nil {
		return nil, err
	}
	tab := ctx
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("looking for axe-core in the page: %w", err)
	}
	if !loaded {
		// axe.min.js ends in an expression; void keeps its value (axe
		// itself) from being sent back by value.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](script+"\n;void 0")); err != nil {
			return nil, fmt.Errorf("loading axe-core into the page: %w", err)
		}
	}
	// With the page's JavaScript off (NoJavaScript) the tab runs no
	// timers or microtasks, and axe needs them: turn scripts on for its
	// run only. The page's own scripts were skipped when it loaded, and
	// turning scripts on does not run them now. The fragment parser tells
	// whether scripts are off: only then does it parse <noscript>'s
	// content as elements.
	off, err := chromedp.Run(ctx, chromedp.Evaluate[bool](scriptsOff))
	if err != nil {
		return nil, fmt.Errorf("asking whether the page's JavaScript is off: %w", err)
	}
	if off {
		if err := setScripts(ctx, false); err != nil {
			return nil, err
		}
		defer func() {
			if e := setScripts(tab, true); e != nil && err == nil {
				vs, err = nil, e
			}
		}()
	}
	tags, _ := json.Marshal(AxeTags)
	vs, err = chromedp.Run(ctx, chromedp.Evaluate[[]Violation](fmt.Sprintf(axeRun, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return vs, nil
}

// scriptsOff is true in a page whose JavaScript is off.
const scriptsOff = `(() => { const d = document.createElement("div"); d.innerHTML = "<noscript><p></p></noscript>"; return d.querySelector("noscript p") !== null })()`

// setScripts turns the tab's JavaScript off or back on.
func setScripts(ctx context.Context, off bool) error {
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
	if err != nil {
		return fmt.Errorf("turning the page's JavaScript off=%v for axe-core: %w", off, err)
	}
	return nil
}

// Axe checks the page the tab shows against WCAG 2.2 level AA with
// axe-core, and fails the test with every violation it finds (the test goes
// on, so one run reports every page's problems). Without axe-core (AxeEnv)
// the test fails, never skips: a browser test must not pass unchecked.
func Axe(t testing.TB, ctx context.Context) {
	t.Helper()
	if _, err := axeScript(); err != nil {
		t.Fatalf("axe: %v", err)
	}
	vs, err := AxeViolations(ctx)
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	if len(vs) == 0 {
		return
	}
	where := Location(t, ctx)
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = "  " + v.String()
	}
	t.Errorf("axe: %d WCAG 2.2 AA violations on %s:\n%s", len(vs), where, strings.Join(lines, "\n"))
}
