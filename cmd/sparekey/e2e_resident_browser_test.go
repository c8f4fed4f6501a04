package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"sparekey"
	"sparekey/internal/browser"
	"sparekey/internal/testkit"
)

// What residents see, in a real browser at a phone's size: the I'm Locked
// Out wizard's every branch, Get Code to the dev outbox and the backup
// link before and after it expires, sign-in and remote unlock, in English
// and Spanish, with JavaScript on and off. Every page visited is checked
// with axe-core against WCAG 2.2 AA, and nothing may load from another
// host. Screenshots go to SPAREKEY_SCREENSHOTS when it is set:
//
//	SPAREKEY_TEST_CHROMIUM=/usr/bin/chromium SPAREKEY_TEST_AXE=…/axe.min.js \
//		SPAREKEY_SCREENSHOTS=$PWD/docs/screenshots go test -count=1 -run Resident ./cmd/sparekey/

// residentTab is one browser tab on the resident pages of a test server.
type residentTab struct {
	t     *testing.T
	ctx   context.Context
	s     *testServer
	shots string // folder for screenshots
}

// newResidentTab starts a browser (first: it skips the test without one)
// and a demo server.
func newResidentTab(t *testing.T, opts ...browser.Option) *residentTab {
	t.Helper()
	ctx := browser.New(t, opts...)
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	}
	return &residentTab{t: t, ctx: ctx, s: startServer(t), shots: shots}
}

// TestResidentWizardInBrowser walks every branch of the public wizard,
// Get Code to the messages in the outbox, and the backup link before the
// tap, after it and once expired.
func TestResidentWizardInBrowser(t *testing.T) {
	t.Parallel()
	r := newResidentTab(t)

	r.open("/support/locked-out", "I'm locked out")
	r.wantText("main .lead", "We'll get you back in. What do you see at the door?")
	r.wantText("ul.choices", "The keypad flashes 1 3 5 7 9 in an X", "My code doesn't work", "The app doesn't unlock")
	r.wantText("a.lang", "Español")
	r.shot("wizard.png")

	// The keypad's X: jammed, the steps, and it worked.
	r.follow("a.choice[href='/support/locked-out?step=jammed']", "/support/locked-out?step=jammed", "Your lock is jammed")
	if got := r.textContent("main > svg[role=img] title"); got != "A keypad with 1, 3, 5, 7 and 9 flashing red in the shape of an X" {
		r.t.Errorf("jammed page's picture is titled %q, want the keypad's X", got)
	}
	r.wantText("ol.steps", "Push or pull the door", "Jiggle the door", "Once the bolt moves, every code works again")
	if n := r.count("ol.steps svg[role=img]"); n != 2 {
		t.Errorf("the jam steps have %d pictures, want 2", n)
	}
	r.shot("wizard-jammed.png")
	r.follow("a[href='/support/locked-out?step=cleared']", "/support/locked-out?step=cleared", "You're in")
	r.wantText("main .lead", "if it keeps happening, tell your property's maintenance team")
	r.wantNoText("main", "Notify maintenance") // anonymous: nowhere to send it
	r.shot("wizard-cleared.png")
	r.follow("main a.btn[href='/']", "/", "Sparekey")

	// Still stuck, anonymous: how to reach maintenance, then skip to a code.
	r.open("/support/locked-out?step=jammed", "Your lock is jammed")
	r.follow("a[href='/support/locked-out?step=stuck']", "/support/locked-out?step=stuck", "Tell maintenance")
	r.wantText("main .help", "Still stuck? Call Maple Court Apartments maintenance:", "(201) 555-0199")
	if href := r.attr("main .help a", "href"); href != "tel:+12015550199" {
		t.Errorf("maintenance's number links to %q, want tel:+12015550199", href)
	}
	r.wantNoText("main", "Notify maintenance")
	r.shot("wizard-stuck.png")
	r.follow("p.skip a", "/support/locked-out/code", "Send me a code")

	// My code doesn't work: the quick checks, then Get Code.
	r.open("/support/locked-out", "I'm locked out")
	r.follow("a.choice[href='/support/locked-out?step=code']", "/support/locked-out?step=code", "Your code or the app doesn't work")
	r.wantText("ul.checks", "Keypad dark or very dim?", "After 5 wrong codes it turns off for a minute", "App says the lock is offline?")
	if n := r.count("ul.checks svg[role=img]"); n != 3 {
		t.Errorf("the checks have %d pictures, want 3", n)
	}
	r.wantNoText("main", "Your keypad is resting") // nobody known: no lock state
	r.shot("wizard-code.png")
	r.follow("main a.btn.primary", "/support/locked-out/code", "Send me a code")
	r.shot("get-code.png")

	// Get Code: the same confirmation, known phone or unknown email.
	browser.SetValue(t, r.ctx, "#contact", "(201) 555-0101")
	r.submit("main form button[type=submit]", http.StatusAccepted, "/support/locked-out/code", "Check your phone and email")
	r.wantText("main", "by text message to the phone on the account and by email", "30 minutes")
	sent := browser.Text(t, r.ctx, "main")
	r.shot("get-code-sent.png")
	r.follow("main a[href='/support/locked-out/code']", "/support/locked-out/code", "Send me a code")
	browser.SetValue(t, r.ctx, "#contact", "nobody@example.org")
	r.submit("main form button[type=submit]", http.StatusAccepted, "/support/locked-out/code", "Check your phone and email")
	if got := browser.Text(t, r.ctx, "main"); got != sent {
		t.Errorf("confirmation for an unknown email differs from a known phone's:\n%s\n---\n%s", got, sent)
	}

	sms := r.s.waitMessages(testkit.AnaPhone, "backup_link", 1)[0]
	email := r.s.waitMessages(testkit.AnaEmail, "backup_link", 1)[0]
	token := r.s.linkToken(sms)
	if r.s.linkToken(email) != token {
		t.Fatal("the SMS and the email carry different links")
	}

	// The link: nothing shown before the tap, then the code, large.
	r.open("/b/"+token, "Your backup code")
	r.wantText("main .lead", "Hi Ana. Tap the button when you're at the door. (Front door)")
	r.wantMatch("main .note", `^This link expires in (29|30) minutes\.$`)
	if n := r.count("main .code"); n != 0 {
		t.Errorf("the link page shows %d codes before the tap", n)
	}
	if digits := regexp.MustCompile(`\d{6,}`).FindString(browser.Text(t, r.ctx, "main")); digits != "" {
		t.Errorf("the link page shows %s before the tap", digits)
	}
	if n := r.count("main .note span[data-expires-in]"); n != 1 {
		t.Errorf("the link page has %d countdowns for app.js, want 1", n)
	}
	r.shot("link.png")
	r.submit("main form button[type=submit]", http.StatusOK, "/b/"+token, "Your backup code")
	code := r.wantCode("section.code-card .code")
	r.wantText("section.code-card", "Front door", "Enter the digits on the keypad, then press the lock button.")
	r.wantText("main .note", "This link expires in")
	r.shot("link-revealed.png")
	if got := r.s.keypad(testkit.AnaLock, code); got != "unlocked" {
		t.Errorf("the revealed code %s at the keypad: %s, want unlocked", code, got)
	}

	// 31 minutes on, the link is the expired page, with a new request.
	r.s.json("POST", "/api/v1/dev/clock", `{"advance":"31m"}`, http.StatusOK, nil)
	r.open("/b/"+token, "This link has expired")
	r.wantText("main .lead", "Backup code links work for 30 minutes after the request.")
	r.wantText("main form label[for=contact]", "Email or phone number")
	r.wantNoText("main", code)
	r.shot("link-expired.png")
	browser.SetValue(t, r.ctx, "#contact", testkit.AnaEmail)
	r.submit("main form button[type=submit]", http.StatusAccepted, "/support/locked-out/code", "Check your phone and email")
	if token2 := r.s.linkToken(r.s.waitMessages(testkit.AnaEmail, "backup_link", 2)[0]); token2 == token {
		t.Error("the new request sent the expired link again")
	}
	r.onlyServer()
}

// TestResidentAppInBrowser signs Ana in with the emailed code and uses
// the app: unlock and lock, her door jamming while Home is open, her code
// and its use, and the wizard and Notify maintenance from More.
func TestResidentAppInBrowser(t *testing.T) {
	t.Parallel()
	r := newResidentTab(t)
	r.s.waitLock(testkit.AnaLock, "reports locked", func(l lockJSON) bool { return l.State == "locked" && l.Online })

	r.open("/app", "Sign in")
	r.wantLocation("/app/sign-in")
	r.shot("app-sign-in.png")
	browser.SetValue(t, r.ctx, "#contact", testkit.AnaEmail)
	r.submit("main form button[type=submit]", http.StatusOK, "/app/sign-in/code", "Enter your code")
	r.wantText("main .lead", "we sent a 6-digit code by text to its phone and by email")
	r.shot("app-code.png")
	browser.SetValue(t, r.ctx, "#code", r.signInCode())
	r.submit("main form button[type=submit]", http.StatusOK, "/app", "Hi Ana")
	r.wantText("main .meta", "Unit 101, Maple Court Apartments")
	r.wantDoor("Front door", "Locked")
	r.wantTab("Home")
	r.shot("app-home.png")

	r.submit("form[action='/app/locks/"+testkit.AnaLock+"/unlock'] button", http.StatusOK, "/app?done=unlocked", "Hi Ana")
	r.wantText("main .flash", "Unlocked.")
	r.wantDoorSoon("Front door", "Unlocked")
	r.submit("form[action='/app/locks/"+testkit.AnaLock+"/lock'] button", http.StatusOK, "/app?done=locked", "Hi Ana")
	r.wantText("main .flash", "Locked.")
	r.wantDoorSoon("Front door", "Locked")

	// Access: the code hidden until the tap; the keypad's use listed.
	if got := r.s.keypad(testkit.AnaLock, testkit.AnaCode); got != "unlocked" {
		t.Fatalf("Ana's code at the keypad: %s", got)
	}
	r.waitEvent(testkit.AnaLock, sparekey.EventKeypadUnlock)
	r.follow("nav.bar a[href='/app/access']", "/app/access", "Access")
	r.wantTab("Access")
	r.wantNoText("main", testkit.AnaCode)
	r.wantText("section.code-card", "Front door")
	r.submit("section.code-card form button", http.StatusOK, "/app/access", "Access")
	if got := r.wantCode("section.code-card .code"); got != testkit.AnaCode {
		t.Errorf("Access shows the code %s, want %s", got, testkit.AnaCode)
	}
	r.wantText("ol.timeline", "Front door · access code")
	r.shot("app-access.png")

	r.follow("nav.bar a[href='/app/more']", "/app/more", "More")
	r.wantText("main", "Support", "Language", "Español")
	r.shot("app-more.png")
	r.follow("a.choice[href='/support/locked-out']", "/support/locked-out", "I'm locked out") // no jam: the start
	r.wantTab("More")

	// Home follows the door without a reload: it jams while the page is
	// open (app.js refreshes the doors every 15 s).
	r.follow("nav.bar a[href='/app']", "/app", "Hi Ana")
	if _, err := chromedp.Run(r.ctx, chromedp.Evaluate[chromedp.Void](`window.skStill = true`)); err != nil {
		t.Fatal(err)
	}
	r.s.json("POST", "/api/v1/dev/locks/"+testkit.AnaLock+"/state", `{"jammed":true}`, http.StatusOK, nil)
	r.waitText("#doors", "Jammed", 20*time.Second)
	if still, err := chromedp.Run(r.ctx, chromedp.Evaluate[bool](`window.skStill === true`)); err != nil || !still {
		t.Errorf("Home showed the jam by loading the page again (%v), not by refreshing the doors", err)
	}
	r.wantLocation("/app")
	r.wantText("#doors .banner.bad", "Your Front door is jammed.", "No code or button will move the bolt")
	r.wantDoor("Front door", "Jammed")
	r.axe()
	r.shot("app-home-jammed.png")
	r.submit("form[action='/app/locks/"+testkit.AnaLock+"/unlock'] button", http.StatusOK, "/app?failed=lock_jammed", "Hi Ana")
	r.wantText("main .error", "Your door is jammed: no button or code can move the bolt.")

	// With a recent jam, I'm Locked Out starts at the jam steps, and
	// Still stuck notifies maintenance.
	r.follow("nav.bar a[href='/app/more']", "/app/more", "More")
	r.follow("a.choice[href='/support/locked-out']", "/support/locked-out", "Your lock is jammed")
	r.wantText("main .banner.bad", "Your Front door reported a jam at ")
	r.follow("a[href='/support/locked-out?step=stuck']", "/support/locked-out?step=stuck", "Tell maintenance")
	r.wantNoText("main", "(201) 555-0199") // signed in: the form, not the phone
	browser.SetValue(t, r.ctx, "#note", "The bolt sticks since the rain.")
	r.submit("main form button[type=submit]", http.StatusOK, "/app/maintenance", "Maintenance has been told")
	r.wantText("main .lead", "We opened work order #1 for your Front door, unit 101.")
	r.shot("app-report-sent.png")
	var orders []struct {
		ID     int64  `json:"id"`
		Lock   string `json:"lock"`
		Status string `json:"status"`
	}
	r.s.json("GET", "/api/v1/work-orders?lock="+testkit.AnaLock, "", http.StatusOK, &orders)
	if len(orders) != 1 || orders[0].ID != 1 || orders[0].Status != "open" {
		t.Errorf("work orders for %s = %+v, want #1 open", testkit.AnaLock, orders)
	}
	r.wantNote(1, "The bolt sticks since the rain.")
	r.onlyServer()
}

// TestResidentBackupLinkContextInBrowser: arriving from a backup link, the
// wizard knows the door: an offline hub, a keypad resting after wrong
// codes, and Notify maintenance through the link.
func TestResidentBackupLinkContextInBrowser(t *testing.T) {
	t.Parallel()
	r := newResidentTab(t)
	r.s.requestCode(testkit.AnaEmail)
	token := r.s.linkToken(r.s.waitMessages(testkit.AnaEmail, "backup_link", 1)[0])
	keep := "&link=" + url.QueryEscape(token)

	// The hub is offline: the backup code is already on the lock.
	r.s.json("POST", "/api/v1/dev/locks/"+testkit.AnaLock+"/state", `{"online":false}`, http.StatusOK, nil)
	r.s.waitLock(testkit.AnaLock, "goes offline", func(l lockJSON) bool { return !l.Online })
	r.open("/support/locked-out?step=code"+keep, "Your code or the app doesn't work")
	r.wantText("main .banner", "The app can't reach your Front door right now, but the keypad still works: a backup code is already stored on the lock.")
	r.wantText("main a.btn.primary", "Show my backup code")
	if href := r.attr("main a.btn.primary", "href"); href != "/b/"+token {
		t.Errorf("Show my backup code links to %q, want the backup link", href)
	}
	r.shot("wizard-code-offline.png")
	r.open("/support/locked-out?link="+url.QueryEscape(token), "Your code or the app doesn't work") // the start leads here

	// Five wrong codes rest the keypad: the wizard says until when.
	r.s.json("POST", "/api/v1/dev/locks/"+testkit.AnaLock+"/state", `{"online":true}`, http.StatusOK, nil)
	r.s.waitLock(testkit.AnaLock, "comes back online", func(l lockJSON) bool { return l.Online })
	for range 5 {
		r.s.keypad(testkit.AnaLock, "000000")
	}
	r.waitEvent(testkit.AnaLock, sparekey.EventKeypadLocked)
	r.open("/support/locked-out?step=code"+keep, "Your code or the app doesn't work")
	banner := browser.Text(t, r.ctx, "main .banner")
	if !regexp.MustCompile(`^Your keypad is resting after too many wrong codes\. It works again at \d{1,2}:\d\d [AP]M: wait until then, then enter your code slowly\.$`).MatchString(banner) {
		t.Errorf("keypad resting banner = %q", banner)
	}
	r.shot("wizard-code-keypad.png")

	// From the link to the jam steps, still stuck: Notify maintenance
	// through the link.
	r.open("/b/"+token, "Your backup code")
	r.follow("main a[href^='/support/locked-out?step=jammed']", "/support/locked-out?step=jammed"+keep, "Your lock is jammed")
	r.follow("a[href^='/support/locked-out?step=stuck']", "/support/locked-out?step=stuck"+keep, "Tell maintenance")
	r.follow("main a.btn.primary", "/b/"+token+"/maintenance", "Notify maintenance")
	r.shot("report.png")
	browser.SetValue(t, r.ctx, "#note", "Door scrapes the frame at the top.")
	r.submit("main form button[type=submit]", http.StatusOK, "/b/"+token+"/maintenance", "Maintenance has been told")
	r.wantText("main .lead", "We opened work order #1 for your Front door, unit 101.")
	r.shot("report-sent.png")
	r.wantNote(1, "Door scrapes the frame at the top.")
	r.onlyServer()
}

// TestResidentInSpanishInBrowser: a phone that asks for Spanish gets the
// wizard, the backup code and the app in Spanish; the switcher changes the
// language and it sticks.
func TestResidentInSpanishInBrowser(t *testing.T) {
	t.Parallel()
	r := newResidentTab(t)
	_, err := chromedp.Call(r.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	r.s.waitLock(testkit.AnaLock, "reports locked", func(l lockJSON) bool { return l.State == "locked" && l.Online })

	r.open("/support/locked-out", "Me quedé afuera")
	r.wantLang("es")
	r.wantText("main .lead", "Vamos a ayudarte a entrar. ¿Qué ves en la puerta?")
	r.wantText("ul.choices", "El teclado parpadea 1 3 5 7 9 en forma de X", "Mi código no funciona")
	r.wantText("a.lang", "English")
	r.shot("wizard-es.png")
	r.follow("a.choice[href='/support/locked-out?step=jammed']", "/support/locked-out?step=jammed", "Tu cerradura está atascada")
	r.wantText("ol.steps", "Empuja o jala la puerta", "Mueve la puerta")
	r.follow("p.skip a", "/support/locked-out/code", "Envíame un código")
	browser.SetValue(t, r.ctx, "#contact", "(201) 555-0101")
	r.submit("main form button[type=submit]", http.StatusAccepted, "/support/locked-out/code", "Revisa tu teléfono y tu correo")
	// Asked in Spanish, the link comes in Spanish.
	sms := r.s.waitMessages(testkit.AnaPhone, "backup_link", 1)[0]
	token := r.s.linkToken(sms)
	if !strings.HasPrefix(sms.Body, "Maple Court Apartments: tu codigo de respaldo (30 min): ") {
		t.Errorf("backup link SMS asked for in Spanish = %q", sms.Body)
	}
	if mail := r.s.waitMessages(testkit.AnaEmail, "backup_link", 1)[0]; mail.Subject != "El enlace a tu código de respaldo" ||
		!strings.HasPrefix(mail.Body, "Hola, Ana:\n\nPediste un código de respaldo para tu puerta (unidad 101, Maple Court Apartments).") {
		t.Errorf("backup link email asked for in Spanish: %q\n%s", mail.Subject, mail.Body)
	}
	r.open("/b/"+token, "Tu código de respaldo")
	r.wantText("main .lead", "Hola, Ana. Toca el botón cuando estés frente a la puerta.")
	r.wantMatch("main .note", `^Este enlace vence en (29|30) minutos\.$`)
	r.wantText("main form button", "Mostrar mi código")
	r.submit("main form button[type=submit]", http.StatusOK, "/b/"+token, "Tu código de respaldo")
	r.wantCode("section.code-card .code")
	r.wantText("section.code-card", "Marca los dígitos en el teclado")
	r.shot("link-revealed-es.png")
	if notice := r.s.waitMessages(testkit.AnaEmail, "code_revealed", 1)[0]; notice.Subject != "Se mostró tu código de respaldo" {
		t.Errorf("reveal notice after a reveal in Spanish: %q\n%s", notice.Subject, notice.Body)
	}

	// Sign in with the texted link, unlock, in Spanish.
	r.open("/app/sign-in", "Iniciar sesión")
	browser.SetValue(t, r.ctx, "#contact", "201-555-0101")
	r.submit("main form button[type=submit]", http.StatusOK, "/app/sign-in/code", "Ingresa tu código")
	r.signInWithLink("Iniciar sesión", "")
	if m := r.s.waitMessages(testkit.AnaPhone, "sign_in", 1)[0]; !strings.HasPrefix(m.Body, "Codigo para iniciar sesion en Sparekey: ") {
		t.Errorf("sign-in SMS asked for in Spanish = %q", m.Body)
	}
	r.wantHeading("Hola, Ana")
	r.wantText("main .meta", "Unidad 101, Maple Court Apartments")
	r.wantDoor("Front door", "Cerrada")
	r.wantText("nav.bar", "Inicio", "Acceso", "Más")
	r.shot("app-home-es.png")
	r.submit("form[action='/app/locks/"+testkit.AnaLock+"/unlock'] button", http.StatusOK, "/app?done=unlocked", "Hola, Ana")
	r.wantText("main .flash", "Listo, está abierta.")
	r.wantDoorSoon("Front door", "Abierta")

	// The switcher shows the page in English, and English stays.
	r.follow("a.lang", "/app?done=unlocked&lang=en", "Hi Ana")
	r.wantLang("en")
	r.wantText("main .flash", "Unlocked.")
	r.follow("nav.bar a[href='/app/access']", "/app/access", "Access")
	r.open("/app/more?lang=es", "Más")
	r.follow("nav.bar a[href='/app/access']", "/app/access", "Acceso")
	r.wantText("main", "Mi código de acceso", "Mostrar mi código")
	r.onlyServer()
}

// TestResidentWithoutJavaScriptInBrowser: with scripts off, Get Code to
// the revealed code, and sign-in with the link to an unlocked door.
func TestResidentWithoutJavaScriptInBrowser(t *testing.T) {
	t.Parallel()
	r := newResidentTab(t, browser.NoJavaScript())
	r.s.waitLock(testkit.AnaLock, "reports locked", func(l lockJSON) bool { return l.State == "locked" && l.Online })

	r.open("/support/locked-out", "I'm locked out")
	r.follow("a.choice[href='/support/locked-out?step=code']", "/support/locked-out?step=code", "Your code or the app doesn't work")
	r.follow("main a.btn.primary", "/support/locked-out/code", "Send me a code")
	browser.SetValue(t, r.ctx, "#contact", testkit.AnaEmail)
	r.submit("main form button[type=submit]", http.StatusAccepted, "/support/locked-out/code", "Check your phone and email")
	token := r.s.linkToken(r.s.waitMessages(testkit.AnaEmail, "backup_link", 1)[0])
	r.open("/b/"+token, "Your backup code")
	r.wantMatch("main .note", `^This link expires in (29|30) minutes\.$`)
	r.submit("main form button[type=submit]", http.StatusOK, "/b/"+token, "Your backup code")
	r.wantCode("section.code-card .code")

	r.open("/app/sign-in", "Sign in")
	browser.SetValue(t, r.ctx, "#contact", "(201) 555-0101")
	r.submit("main form button[type=submit]", http.StatusOK, "/app/sign-in/code", "Enter your code")
	r.signInWithLink("Sign in", "app-link.png")
	r.wantHeading("Hi Ana")
	r.wantDoor("Front door", "Locked")
	r.submit("form[action='/app/locks/"+testkit.AnaLock+"/unlock'] button", http.StatusOK, "/app?done=unlocked", "Hi Ana")
	r.wantText("main .flash", "Unlocked.")
	r.wantDoorSoon("Front door", "Unlocked")
	r.follow("nav.bar a[href='/app/access']", "/app/access", "Access")
	r.submit("section.code-card form button", http.StatusOK, "/app/access", "Access")
	if got := r.wantCode("section.code-card .code"); got != testkit.AnaCode {
		t.Errorf("Access shows the code %s, want %s", got, testkit.AnaCode)
	}
	r.onlyServer()
}

// signInWithLink opens the sign-in link of the latest sign-in SMS: a page
// with a button (titled h1), which signs in. shot names its screenshot
// ("" takes none).
func (r *residentTab) signInWithLink(h1, shot string) {
	r.t.Helper()
	msgs := r.s.waitMessages(testkit.AnaPhone, "sign_in", 1)
	m := regexp.MustCompile(`/app/sign-in/link/([A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[0].Body)
	if m == nil {
		r.t.Fatalf("sign-in SMS has no link:\n%s", msgs[0].Body)
	}
	r.open(m[0], h1)
	if shot != "" {
		r.shot(shot)
	}
	r.submit("main form button[type=submit]", http.StatusOK, "/app", "")
}

// signInCode is the code in the latest sign-in email's subject.
func (r *residentTab) signInCode() string {
	r.t.Helper()
	msgs := r.s.waitMessages(testkit.AnaEmail, "sign_in", 1)
	m := regexp.MustCompile(`^Your Sparekey sign-in code: (\d{6})$`).FindStringSubmatch(msgs[0].Subject)
	if m == nil {
		r.t.Fatalf("sign-in email's subject = %q", msgs[0].Subject)
	}
	return m[1]
}

// open loads a page, checks its heading and runs axe on it.
func (r *residentTab) open(path, h1 string) {
	r.t.Helper()
	browser.Navigate(r.t, r.ctx, r.s.base+path)
	r.wantHeading(h1)
	r.axe()
}

// follow clicks a link and checks the page it leads to.
func (r *residentTab) follow(selector, path, h1 string) {
	r.t.Helper()
	r.submit(selector, http.StatusOK, path, h1)
}

// submit clicks a link or button and checks the page it leads to: its
// status, location and heading ("" checks none); then runs axe on it.
func (r *residentTab) submit(selector string, status int, path, h1 string) {
	r.t.Helper()
	if got := browser.ClickAndWait(r.t, r.ctx, selector); got != status {
		r.t.Fatalf("click %q: status %d, want %d\n%s", selector, got, status, browser.Text(r.t, r.ctx, "main"))
	}
	r.wantLocation(path)
	if h1 != "" {
		r.wantHeading(h1)
	}
	r.axe()
}

// axe checks the page against WCAG 2.2 AA.
func (r *residentTab) axe() {
	r.t.Helper()
	browser.Axe(r.t, r.ctx)
}

func (r *residentTab) wantHeading(want string) {
	r.t.Helper()
	if got := browser.Text(r.t, r.ctx, "main h1"); got != want {
		r.t.Fatalf("page %s has heading %q, want %q", browser.Location(r.t, r.ctx), got, want)
	}
}

// wantLocation checks the tab's URL, given from the path on.
func (r *residentTab) wantLocation(path string) {
	r.t.Helper()
	if got := browser.Location(r.t, r.ctx); got != r.s.base+path {
		r.t.Fatalf("location = %s, want %s", got, r.s.base+path)
	}
}

// wantText checks that the element shows each of the texts.
func (r *residentTab) wantText(selector string, want ...string) {
	r.t.Helper()
	got := browser.Text(r.t, r.ctx, selector)
	for _, w := range want {
		if !strings.Contains(got, w) {
			r.t.Errorf("%s on %s lacks %q:\n%s", selector, browser.Location(r.t, r.ctx), w, got)
		}
	}
}

// wantMatch checks the element's whole text against a regular expression.
func (r *residentTab) wantMatch(selector, pattern string) {
	r.t.Helper()
	if got := browser.Text(r.t, r.ctx, selector); !regexp.MustCompile(pattern).MatchString(got) {
		r.t.Errorf("%s on %s = %q, want it to match %s", selector, browser.Location(r.t, r.ctx), got, pattern)
	}
}

func (r *residentTab) wantNoText(selector, unwanted string) {
	r.t.Helper()
	if got := browser.Text(r.t, r.ctx, selector); strings.Contains(got, unwanted) {
		r.t.Errorf("%s on %s shows %q:\n%s", selector, browser.Location(r.t, r.ctx), unwanted, got)
	}
}

// waitText waits, without reloading, until the element shows want.
func (r *residentTab) waitText(selector, want string, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := browser.Text(r.t, r.ctx, selector)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s did not show %q within %v:\n%s", selector, want, within, got)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// wantDoor checks Home's card of a door: its name and its state.
func (r *residentTab) wantDoor(name, state string) {
	r.t.Helper()
	if got := browser.Text(r.t, r.ctx, "section.door h2"); got != name {
		r.t.Errorf("door is named %q, want %q", got, name)
	}
	if got := browser.Text(r.t, r.ctx, "section.door .state"); got != state {
		r.t.Errorf("%s is shown %q, want %q", name, got, state)
	}
}

// wantDoorSoon is wantDoor after Lock or Unlock. The lock reports its new
// state a moment after the command returns, so the page the command leads
// to may still show the old one: Home is loaded again, for up to 5 s,
// until it shows the new state, and the stale page is logged.
func (r *residentTab) wantDoorSoon(name, state string) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := browser.Text(r.t, r.ctx, "section.door .state")
		if got == state || time.Now().After(deadline) {
			break
		}
		r.t.Logf("%s shows %s as %q after the command, not yet %q: loading it again", browser.Location(r.t, r.ctx), name, got, state)
		time.Sleep(200 * time.Millisecond)
		browser.Navigate(r.t, r.ctx, browser.Location(r.t, r.ctx))
	}
	r.wantDoor(name, state)
}

// wantTab checks which tab of the app's bottom bar is the current one.
func (r *residentTab) wantTab(name string) {
	r.t.Helper()
	if got := browser.Text(r.t, r.ctx, "nav.bar a[aria-current=page]"); got != name {
		r.t.Errorf("current tab = %q, want %q", got, name)
	}
}

// wantCode returns the code the element shows, checking that it is all
// digits and large enough to read at a glance.
func (r *residentTab) wantCode(selector string) string {
	r.t.Helper()
	code := browser.Text(r.t, r.ctx, selector)
	if !regexp.MustCompile(`^\d{6,10}$`).MatchString(code) {
		r.t.Fatalf("%s shows %q, want a code of digits", selector, code)
	}
	px := r.eval(`parseFloat(getComputedStyle(document.querySelector(` + quote(selector) + `)).fontSize)`)
	if px < 32 {
		r.t.Errorf("the code is %v px high, want at least 32", px)
	}
	return code
}

// wantLang checks the page's language.
func (r *residentTab) wantLang(lang string) {
	r.t.Helper()
	if got := r.attr("html", "lang"); got != lang {
		r.t.Errorf("page's lang = %q, want %q", got, lang)
	}
}

// wantNote checks that a work order holds a resident's note.
func (r *residentTab) wantNote(id int64, note string) {
	r.t.Helper()
	var wo struct {
		Lock  string `json:"lock"`
		Notes []struct {
			Text string `json:"text"`
		} `json:"notes"`
	}
	r.s.json("GET", "/api/v1/work-orders/"+strconv.FormatInt(id, 10), "", http.StatusOK, &wo)
	for _, n := range wo.Notes {
		if strings.Contains(n.Text, note) {
			if wo.Lock != testkit.AnaLock {
				r.t.Errorf("work order %d is for %s, want %s", id, wo.Lock, testkit.AnaLock)
			}
			return
		}
	}
	r.t.Errorf("work order %d lacks the note %q: %+v", id, note, wo)
}

// waitEvent waits until the server has recorded an event of the kind
// from the lock: the lock's reports reach the store a moment after the
// dev endpoint returns.
func (r *residentTab) waitEvent(device string, kind sparekey.DeviceEventKind) {
	r.t.Helper()
	waitUntil(r.t, device+" reports "+string(kind), func() bool {
		var events []struct{ Kind string }
		r.s.json("GET", "/api/v1/locks/"+device+"/events?limit=20", "", http.StatusOK, &events)
		for _, e := range events {
			if e.Kind == string(kind) {
				return true
			}
		}
		return false
	})
}

// count is how many elements match selector.
func (r *residentTab) count(selector string) int {
	r.t.Helper()
	return int(r.eval(`document.querySelectorAll(` + quote(selector) + `).length`))
}

// attr is an attribute of the first element that matches selector.
func (r *residentTab) attr(selector, name string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, browser.StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+quote(selector)+`).getAttribute(`+quote(name)+`) || ""`))
	if err != nil {
		r.t.Fatalf("attribute %s of %q: %v", name, selector, err)
	}
	return v
}

// textContent is the text of an element that is not shown as text, such
// as an SVG's title.
func (r *residentTab) textContent(selector string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, browser.StepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(selector)))
	if err != nil {
		r.t.Fatalf("text content of %q: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

func (r *residentTab) eval(expr string) float64 {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, browser.StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		r.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// shot saves a full-page screenshot of the tab.
func (r *residentTab) shot(name string) {
	r.t.Helper()
	browser.Screenshot(r.t, r.ctx, filepath.Join(r.shots, name))
}

// onlyServer checks that every request the tab sent went to the test
// server.
func (r *residentTab) onlyServer() {
	r.t.Helper()
	reqs := browser.Requests(r.ctx)
	if len(reqs) == 0 {
		r.t.Fatal("the browser recorded no requests")
	}
	for _, u := range reqs {
		if !strings.HasPrefix(u, r.s.base+"/") && !strings.HasPrefix(u, "data:") {
			r.t.Errorf("request to another host than the test server %s: %s", r.s.base, u)
		}
	}
}
