package lockout_test

import (
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/lockout"
)

// The messages name the building and unit, fit one SMS segment, tell how to
// ask again and whom to call.
func TestLinkMessagesSayWhereAndWhatNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.requestLink(t, ana, ana)
	var sms, email *sparekey.Message
	for _, m := range b.messages(t) {
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
	old := b.requestLink(t, ana, ana)
	b.requestLink(t, ana, ana)
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
	token := b.requestLink(t, ana, ana)
	for range 5 {
		b.reveal(t, token)
	}
	notices := sent(b.messages(t), "code_revealed")
	if len(notices) != 3 {
		t.Errorf("%d reveal notices for 5 reveals, want 3: %v", len(notices), notices)
	}
	if n := len(b.events(t, "link.revealed")); n != 5 {
		t.Errorf("%d reveals audited, want 5", n)
	}
}

// A request answered only after its link would have died sends nothing.
func TestLateAnswerSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, ana)
	b.advance(31 * time.Minute)
	b.run(t)
	if ms := b.messages(t); len(ms) != 0 {
		t.Errorf("a late answer sent %v", sent(ms, "backup_link"))
	}
	if got := b.outcomes(t); len(got) != 1 || got[0] != sparekey.OutcomeExpired {
		t.Errorf("outcomes %v, want expired", got)
	}
}
