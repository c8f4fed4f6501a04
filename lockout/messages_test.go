package lockout_test

import (
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/lockout"
)

// The messages name the building and unit, fit one SMS segment, tell how to
// ask again and whom to call.
func TestLinkMessagesSayWhereAndWhatNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	var sms, email *sparekey.Message
	for _, m := range b.db.Messages(t) {
		switch m.Channel {
		case sparekey.ChannelSMS:
			sms = m
		case sparekey.ChannelEmail:
			email = m
		}
	}
	if sms == nil || email == nil {
		t.Fatal("missing SMS or email")
	}
	if !strings.HasPrefix(sms.Body, "Maple Court Apartments: ") || len(sms.Body) > 160 {
		t.Errorf("SMS (%d chars) %q", len(sms.Body), sms.Body)
	}
	for _, want := range []string{"unit 101, Maple Court Apartments", baseURL + "/support/locked-out", "(201) 555-0199", "9:30 AM EST", "Sparekey for Maple Court Apartments"} {
		if !strings.Contains(email.Body, want) {
			t.Errorf("email text lacks %q:\n%s", want, email.Body)
		}
		if !strings.Contains(email.HTML, want) {
			t.Errorf("email HTML lacks %q:\n%s", want, email.HTML)
		}
	}
}

// A replaced link says a newer one was sent, not that 30 minutes passed.
func TestReplacedLinkSaysANewerOneWasSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	_, err := b.svc.RevealLink(b.ctx, old, lockout.Visit{})
	wantCode(t, "replaced link", err, sparekey.ELINKEXPIRED)
	if !strings.Contains(sparekey.ErrorMessage(err), "newer link") {
		t.Errorf("message %q", sparekey.ErrorMessage(err))
	}
}

// Each of the first three reveals that show a code is emailed to the
// account; later reveals, and reveals of a used code, are audited only.
func TestRevealNoticesAreCapped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	for range 5 {
		b.reveal(t, token)
	}
	notices := sent(b.db.Messages(t), "code_revealed")
	if len(notices) != 3 {
		t.Errorf("%d reveal notices for 5 reveals, want 3: %v", len(notices), notices)
	}
	if n := len(b.db.AuditOf(t, "link.revealed")); n != 5 {
		t.Errorf("%d reveals audited, want 5", n)
	}
}

// A request answered only after its link would have died sends nothing.
func TestLateAnswerSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.AnaEmail)
	b.advance(31 * time.Minute)
	b.run(t)
	if ms := b.db.Messages(t); len(ms) != 0 {
		t.Errorf("a late answer sent %v", sent(ms, "backup_link"))
	}
	if got := b.outcomes(t); len(got) != 1 || got[0] != sparekey.OutcomeExpired {
		t.Errorf("outcomes %v, want expired", got)
	}
}

// gsm7 holds the GSM 03.38 basic alphabet (and the extension table's
// characters): an SMS made only of these fits 160 characters a segment.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"

// A request made in Spanish is answered in Spanish, by SMS and email, and
// its reveal notice too, whoever reveals it; any other language gets
// English. Both SMS keep to the GSM alphabet and one segment.
func TestLinkMessagesInTheLanguageAsked(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lang, sms, subject, text, html, notice string
	}{
		{"es", "Maple Court Apartments: tu codigo de respaldo (30 min): ", "El enlace a tu código de respaldo",
			"Hola, Ana:\n\nPediste un código de respaldo para tu puerta (unidad 101, Maple Court Apartments).", `<html lang="es">`, "Se mostró tu código de respaldo"},
		{"zz", "Maple Court Apartments: your backup code link (30 min): ", "Your backup door code link",
			"Hi Ana,\n\nYou asked for a backup code for your door (unit 101, Maple Court Apartments).", `<html lang="en">`, "Your backup door code was viewed"},
	} {
		b := setup(t)
		if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: testkit.AnaEmail, IP: testIP, UserAgent: testUA, Language: c.lang}); err != nil {
			t.Fatal(err)
		}
		b.run(t)
		token := b.token(t, testkit.AnaEmail)
		if _, err := b.svc.RevealLink(b.ctx, token, lockout.Visit{}); err != nil { // whoever reveals: told in the request's language
			t.Fatal(err)
		}
		msgs := b.db.Messages(t)
		if len(msgs) != 3 {
			t.Fatalf("%s: %d messages, want the link by SMS and email, and the reveal notice", c.lang, len(msgs))
		}
		for _, m := range msgs {
			switch {
			case m.Channel == sparekey.ChannelSMS:
				if !strings.HasPrefix(m.Body, c.sms) || len([]rune(m.Body)) > 160 {
					t.Errorf("%s: SMS (%d characters) = %q", c.lang, len([]rune(m.Body)), m.Body)
				}
				for _, r := range m.Body {
					if !strings.ContainsRune(gsm7, r) {
						t.Errorf("%s: SMS has %q, outside the GSM alphabet: it would be sent as UCS-2", c.lang, r)
					}
				}
			case m.Kind == "backup_link":
				if m.Subject != c.subject || !strings.HasPrefix(m.Body, c.text) || !strings.Contains(m.HTML, c.html) {
					t.Errorf("%s: email %q\n%s\n%s", c.lang, m.Subject, m.Body, m.HTML)
				}
			case m.Kind == "code_revealed":
				if m.Subject != c.notice {
					t.Errorf("%s: reveal notice %q", c.lang, m.Subject)
				}
			}
		}
	}
}
