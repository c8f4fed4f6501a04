package lockout_test

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/lockout"
	"sparekey/roster"
	"sparekey/secret"
	"sparekey/sim"
)

var visit = lockout.Visit{IP: "192.0.2.44", UserAgent: "Mozilla/5.0 (link visitor)"}

// Rule 8: the token is long, URL-safe, and only its keyed hash is stored:
// neither the token nor what was typed reaches the SQLite file.
func TestLinkTokenIsNeverStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	typed := []string{"ANA@EXAMPLE.COM", "(201) 555-0101", "zoe.unknown@example.org", "(201) 555-0177"}
	for _, c := range typed {
		b.request(t, c)
	}
	b.run(t)
	token := b.token(t, testkit.AnaEmail)
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]{43,}$`)
	tokens := map[string]bool{}
	for _, m := range b.db.Messages(t) {
		found := linkPattern.FindStringSubmatch(m.Body)
		if found == nil || !urlSafe.MatchString(found[1]) {
			t.Errorf("%s to %s: no link with a token of at least 43 URL-safe characters (256 bits):\n%s", m.Channel, m.To, m.Body)
			continue
		}
		if m.Channel == sparekey.ChannelEmail && !strings.Contains(m.HTML, baseURL+"/b/"+found[1]) {
			t.Errorf("email to %s: the HTML does not carry the link", m.To)
		}
		tokens[found[1]] = true
	}
	if len(tokens) != 2 { // one email and one SMS per link
		t.Errorf("%d distinct tokens in the messages of two links, want 2", len(tokens))
	}
	if l := b.link(t, token); l.TokenHash != b.keys.Hash(sparekey.HashLinkToken, token) {
		t.Errorf("stored token hash %q is not the keyed hash of the token", l.TokenHash)
	}
	if _, err := b.svc.ViewLink(b.ctx, token, visit); err != nil {
		t.Fatalf("ViewLink: %v", err)
	}

	raw := b.fileBytes(t)
	if !bytes.Contains(raw, []byte(testUA)) {
		t.Fatal("the user agent is not in the database files: are these the right files?")
	}
	secrets := append([]string{"zoe.unknown@example.org", testkit.StrangerPhone}, typed...)
	for tok := range tokens {
		secrets = append(secrets, tok)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the SQLite file holds %q", s)
		}
	}
	// Rule 12: nor do the logs hold the token.
	for tok := range tokens {
		if strings.Contains(b.logs.String(), tok) {
			t.Errorf("the log holds a token:\n%s", b.logs.String())
		}
	}
}

// Rule 9: a link lives 30 minutes from the request, however late the job
// ran, checked at every access.
func TestLinkExpiresThirtyMinutesAfterTheRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.AnaEmail)
	b.advance(10 * time.Minute) // the job runs late
	b.run(t)
	token := b.token(t, testkit.AnaEmail)
	expires := testkit.T0.Add(30 * time.Minute)
	if l := b.link(t, token); !l.ExpiresAt.Equal(expires) {
		t.Errorf("stored expires_at %v, want the request time + 30 min %v", l.ExpiresAt, expires)
	}
	view, err := b.svc.ViewLink(b.ctx, token, visit)
	if err != nil {
		t.Fatal(err)
	}
	if !view.ExpiresAt.Equal(expires) {
		t.Errorf("ViewLink expires at %v, want %v", view.ExpiresAt, expires)
	}
	// 14:30 UTC is 9:30 AM in Maple Court's time zone (America/New_York).
	for _, m := range b.db.Messages(t) {
		if m.Channel == sparekey.ChannelEmail && !strings.Contains(m.Body, "9:30 AM EST") {
			t.Errorf("email does not give the expiry time 9:30 AM EST:\n%s", m.Body)
		}
	}

	b.at(t, testkit.T0.Add(29*time.Minute+59*time.Second))
	if _, err := b.svc.ViewLink(b.ctx, token, visit); err != nil {
		t.Errorf("ViewLink at 29:59: %v", err)
	}
	if rev, err := b.svc.RevealLink(b.ctx, token, visit); err != nil || !rev.ExpiresAt.Equal(expires) {
		t.Errorf("RevealLink at 29:59: %+v, %v", rev, err)
	}
	for _, at := range []time.Duration{30 * time.Minute, 30*time.Minute + time.Second} {
		b.at(t, testkit.T0.Add(at))
		_, err := b.svc.ViewLink(b.ctx, token, visit)
		wantCode(t, fmt.Sprintf("ViewLink at %v", at), err, sparekey.ELINKEXPIRED)
		_, err = b.svc.RevealLink(b.ctx, token, visit)
		wantCode(t, fmt.Sprintf("RevealLink at %v", at), err, sparekey.ELINKEXPIRED)
	}
}

// Rule 9: one live link per account: a new request ends the old one.
func TestNewRequestEndsTheOldLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	b.advance(2 * time.Minute)
	fresh := b.requestLink(t, testkit.AnaPhone, testkit.AnaEmail)
	if old == fresh {
		t.Fatal("the new request got the old token")
	}
	_, err := b.svc.ViewLink(b.ctx, old, visit)
	wantCode(t, "ViewLink of the replaced link", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.RevealLink(b.ctx, old, visit)
	wantCode(t, "RevealLink of the replaced link", err, sparekey.ELINKEXPIRED)
	if l := b.link(t, old); l.RevokedAt == nil || !l.RevokedAt.Equal(testkit.T0.Add(2*time.Minute)) {
		t.Errorf("replaced link revoked at %v, want %v", l.RevokedAt, testkit.T0.Add(2*time.Minute))
	}
	if c := b.reveal(t, fresh); c.Status != lockout.CodeReady {
		t.Errorf("new link reveals %+v, want a ready code", c)
	}
	// A link of another account is not ended.
	benLink := b.requestLink(t, testkit.BenEmail, testkit.BenEmail)
	if _, err := b.svc.ViewLink(b.ctx, fresh, visit); err != nil {
		t.Errorf("Ben's request ended Ana's link: %v", err)
	}
	if _, err := b.svc.ViewLink(b.ctx, benLink, visit); err != nil {
		t.Errorf("Ben's link: %v", err)
	}
}

func TestUnknownTokenIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	last := "A"
	if strings.HasSuffix(token, "A") {
		last = "B"
	}
	for _, bad := range []string{secret.NewToken(), "", "x", token[:len(token)-1], token[:len(token)-1] + last, strings.ToUpper(token) + "!"} {
		_, err := b.svc.ViewLink(b.ctx, bad, visit)
		wantCode(t, fmt.Sprintf("ViewLink(%q)", bad), err, sparekey.ELINKNOTFOUND)
		_, err = b.svc.RevealLink(b.ctx, bad, visit)
		wantCode(t, fmt.Sprintf("RevealLink(%q)", bad), err, sparekey.ELINKNOTFOUND)
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error message holds the token: %v", err)
		}
	}
	if c := b.reveal(t, token); c.Status != lockout.CodeReady {
		t.Errorf("the real link after bad guesses reveals %+v", c)
	}
}

// A resident who moved out can no longer use a link sent before.
func TestLinkOfAMovedOutResidentEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	b.db.MustWrite(t, func(tx sparekey.Tx) error {
		r, err := tx.ResidentByEmail(b.ctx, testkit.AnaEmail)
		if err != nil {
			return err
		}
		now := b.clock.Now()
		r.MovedOutAt = &now
		return tx.UpdateResident(b.ctx, r)
	})
	_, err := b.svc.ViewLink(b.ctx, token, visit)
	wantCode(t, "ViewLink after moving out", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.RevealLink(b.ctx, token, visit)
	wantCode(t, "RevealLink after moving out", err, sparekey.ELINKEXPIRED)
}

// Rule 10: viewing a link shows no code and changes nothing.
func TestViewLinkChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	linkBefore := b.link(t, token)
	slotsBefore := b.db.Slots(t, testkit.AnaLock)
	messagesBefore := b.db.Messages(t)
	queuedBefore := b.queued.Load()

	b.advance(time.Minute)
	view, err := b.svc.ViewLink(b.ctx, token, visit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.ViewLink(b.ctx, token, visit); err != nil {
		t.Fatal(err)
	}
	if view.FirstName != "Ana" || !reflect.DeepEqual(view.Locks, []string{"Front door"}) || !view.ExpiresAt.Equal(testkit.T0.Add(30*time.Minute)) {
		t.Errorf("ViewLink = %+v", view)
	}
	if l := b.link(t, token); !reflect.DeepEqual(l, linkBefore) || l.RevealedAt != nil || l.Reveals != 0 {
		t.Errorf("ViewLink changed the link:\nbefore %+v\nafter  %+v", linkBefore, l)
	}
	if s := b.db.Slots(t, testkit.AnaLock); !reflect.DeepEqual(s, slotsBefore) {
		t.Error("ViewLink changed the lock's slots")
	}
	if ms := b.db.Messages(t); len(ms) != len(messagesBefore) {
		t.Errorf("ViewLink queued %v", sent(ms[len(messagesBefore):], "code_revealed"))
	}
	if b.queued.Load() != queuedBefore {
		t.Error("ViewLink woke the outbox")
	}
	code := b.reveal(t, token).Code
	if shown := fmt.Sprintf("%+v", *view); strings.Contains(shown, code) {
		t.Errorf("ViewLink shows the code %s: %s", code, shown)
	}
}

// Rule 10 and 13: revealing a link gives the backup code issued for the
// unit's lock, marks the link revealed and emails the account.
func TestRevealLinkGivesTheIssuedCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	b.advance(time.Minute)
	queuedBefore := b.queued.Load()
	rev, err := b.svc.RevealLink(b.ctx, token, visit)
	if err != nil {
		t.Fatal(err)
	}
	if rev.FirstName != "Ana" || !rev.ExpiresAt.Equal(testkit.T0.Add(30*time.Minute)) || len(rev.Codes) != 1 {
		t.Fatalf("RevealLink = %+v", rev)
	}
	c := rev.Codes[0]
	if c.Lock != testkit.AnaLock || c.Name != "Front door" || c.Status != lockout.CodeReady || c.Code == "" {
		t.Fatalf("revealed %+v, want a ready code for %s", c, testkit.AnaLock)
	}
	// It is the backup code issued to Ana, confirmed on the lock.
	anaID := b.db.Resident(t, testkit.AnaEmail).ID
	var issued []*sparekey.Slot
	for _, sl := range b.db.Slots(t, testkit.AnaLock) {
		if sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued {
			issued = append(issued, sl)
		}
	}
	if len(issued) != 1 || issued[0].Code != c.Code || issued[0].IssuedTo != anaID || !issued[0].Usable() {
		t.Fatalf("revealed code is not the one backup slot issued to Ana and confirmed: %+v", issued)
	}
	if prog := b.fleet.Programmed(testkit.AnaLock); prog[issued[0].Number] != c.Code {
		t.Errorf("the lock holds %q in slot %d, not the revealed code", prog[issued[0].Number], issued[0].Number)
	}
	l := b.link(t, token)
	if l.RevealedAt == nil || !l.RevealedAt.Equal(testkit.T0.Add(time.Minute)) || l.Reveals != 1 {
		t.Errorf("after a reveal the link is revealed at %v, %d reveals", l.RevealedAt, l.Reveals)
	}
	if b.queued.Load() != queuedBefore+1 {
		t.Error("the reveal did not wake the outbox")
	}
	// A second reveal gives the same code and keeps the first reveal's time.
	b.advance(time.Minute)
	if again := b.reveal(t, token); again != c {
		t.Errorf("second reveal %+v, first %+v", again, c)
	}
	l = b.link(t, token)
	if !l.RevealedAt.Equal(testkit.T0.Add(time.Minute)) || l.Reveals != 2 {
		t.Errorf("after two reveals: revealed at %v, %d reveals", l.RevealedAt, l.Reveals)
	}
	// Each reveal emails the account, never texts, and the email holds no code.
	var revealed []string
	for _, m := range b.db.Messages(t) {
		if m.Kind == "code_revealed" {
			revealed = append(revealed, string(m.Channel)+":"+m.To)
			if strings.Contains(m.Body, c.Code) || strings.Contains(m.Subject, c.Code) {
				t.Errorf("code_revealed email holds the code:\n%s", m.Body)
			}
		}
	}
	sameList(t, "code_revealed messages", revealed, []string{"email:" + testkit.AnaEmail, "email:" + testkit.AnaEmail})
}

// Rule 13: views, reveals, expired and unknown tokens are all audited, with
// who asked and no token or code.
func TestLinkAccessIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	anaID := b.db.Resident(t, testkit.AnaEmail).ID
	linkID := b.link(t, token).ID
	if _, err := b.svc.ViewLink(b.ctx, token, visit); err != nil {
		t.Fatal(err)
	}
	code := b.reveal(t, token).Code
	unknown := secret.NewToken()
	b.svc.ViewLink(b.ctx, unknown, visit)
	b.advance(31 * time.Minute)
	b.svc.RevealLink(b.ctx, token, visit)

	subject := fmt.Sprintf("link:%d", linkID)
	for _, w := range []struct{ action, actor, subject string }{
		{"link.viewed", fmt.Sprintf("resident:%d", anaID), subject},
		{"link.revealed", fmt.Sprintf("resident:%d", anaID), subject},
		{"link.unknown", "anonymous", "link:unknown"},
		{"link.expired", "anonymous", subject},
	} {
		evs := b.db.AuditOf(t, w.action)
		if len(evs) != 1 {
			t.Errorf("%d %s events, want 1", len(evs), w.action)
			continue
		}
		e := evs[0]
		if e.Actor != w.actor || e.Subject != w.subject || e.IP != visit.IP || e.UserAgent != visit.UserAgent {
			t.Errorf("%s: actor %s subject %s IP %s UA %q; want %s %s %s %q",
				w.action, e.Actor, e.Subject, e.IP, e.UserAgent, w.actor, w.subject, visit.IP, visit.UserAgent)
		}
	}
	queued := b.db.AuditOf(t, "message.queued")
	if len(queued) == 0 || queued[len(queued)-1].Detail["kind"] != "code_revealed" {
		t.Error("the code_revealed email was not audited as queued")
	}
	// Rule 12: no token or door code in the audit trail or the log.
	for _, e := range b.db.Audit(t) {
		line := fmt.Sprintf("%+v %v", *e, e.Detail)
		if strings.Contains(line, token) || strings.Contains(line, unknown) || strings.Contains(line, code) {
			t.Errorf("audit event holds a token or the code: %s", line)
		}
	}
	if logs := b.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, code) {
		t.Errorf("the log holds a token or the code:\n%s", logs)
	}
}

// A still-valid, unused backup code is given again by the next link.
func TestSecondRequestRevealsTheSameCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail))
	b.advance(5 * time.Minute)
	second := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail))
	if first.Status != lockout.CodeReady || second != first {
		t.Errorf("second link reveals %+v, first %+v; want the same ready code", second, first)
	}
	issued := 0
	for _, sl := range b.db.Slots(t, testkit.AnaLock) {
		if sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupIssued {
			issued++
		}
	}
	if issued != 1 {
		t.Errorf("%d backup codes issued to Ana's lock, want 1", issued)
	}
}

// A backup code works once: after it opened the door the old link shows it
// as used, the lock forgets it, and a new link reveals a fresh code.
func TestUsedCodeIsReplaced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	used := b.reveal(t, old)
	if res, err := b.fleet.Keypad(testkit.AnaLock, used.Code); err != nil || res.Result != sim.KeypadUnlocked {
		t.Fatalf("Keypad(backup code) = %+v, %v", res, err)
	}
	if c := b.reveal(t, old); c.Status != lockout.CodeUsed || c.Code != "" {
		t.Errorf("old link after the code was used reveals %+v, want status used and no code", c)
	}
	b.advance(time.Second)
	b.sync(t) // the rotated slot reaches the lock
	if res, _ := b.fleet.Keypad(testkit.AnaLock, used.Code); res.Result != sim.KeypadRejected {
		t.Errorf("the used code still opens the door: %+v", res)
	}
	b.advance(time.Minute)
	fresh := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail))
	if fresh.Status != lockout.CodeReady || fresh.Code == used.Code {
		t.Errorf("new link reveals %+v after %s was used; want a different ready code", fresh, used.Code)
	}
	if res, _ := b.fleet.Keypad(testkit.AnaLock, fresh.Code); res.Result != sim.KeypadUnlocked {
		t.Errorf("the new backup code does not open the door: %+v", res)
	}
}

// An issued code that was never used is rotated once BackupCodeTTL passed.
func TestIssuedCodeIsRotatedAfter24Hours(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)).Code
	slotOf := func() *sparekey.Slot {
		for _, sl := range b.db.Slots(t, testkit.AnaLock) {
			if sl.Purpose == sparekey.SlotBackup && sl.Code == code {
				return sl
			}
		}
		return nil
	}
	b.at(t, testkit.T0.Add(23*time.Hour+59*time.Minute))
	b.sync(t)
	if sl := slotOf(); sl == nil || sl.Backup != sparekey.BackupIssued {
		t.Fatalf("code rotated before 24 h: %+v", sl)
	}
	b.at(t, testkit.T0.Add(24*time.Hour+time.Second))
	b.sync(t)
	if sl := slotOf(); sl != nil {
		t.Fatalf("code still on a slot 24 h after it was issued: %+v", sl)
	}
	if res, _ := b.fleet.Keypad(testkit.AnaLock, code); res.Result != sim.KeypadRejected {
		t.Errorf("the expired code still opens the door: %+v", res)
	}
	rotated := false
	for _, e := range b.db.AuditOf(t, "backup_code.rotated") {
		rotated = rotated || e.Detail["reason"] == "expired"
	}
	if !rotated {
		t.Error("no backup_code.rotated event with reason expired")
	}
	if fresh := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)); fresh.Status != lockout.CodeReady || fresh.Code == code {
		t.Errorf("a new link reveals %+v, want a ready code other than the expired %s", fresh, code)
	}
}

// A link made while the lock had no confirmed code shows the lock as
// unavailable, and gets a code once the lock confirmed one.
func TestLinkMadeWithAnEmptyPoolGetsACodeLater(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const device = "unit-104-front"
	// The lock is on the roster but not reachable: its pool stays pending.
	if err := roster.Add(b.ctx, b.db, b.access.Codes, b.clock, []roster.Entry{{Property: roster.Demo[0].Property,
		Unit: "104", Lock: device, Name: "Dan Hill", Email: "dan@example.com", Phone: "+12015550104"}}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	token := b.requestLink(t, "dan@example.com", "dan@example.com")
	if c := b.reveal(t, token); c.Status != lockout.CodeUnavailable || c.Code != "" || c.Lock != device {
		t.Fatalf("reveal with an empty pool: %+v, want unavailable with no code", c)
	}
	b.fleet.Add(device, roster.DefaultSlotCount)
	b.advance(10 * time.Minute)
	b.sync(t)
	c := b.reveal(t, token)
	if c.Status != lockout.CodeReady || c.Code == "" {
		t.Fatalf("reveal once the lock confirmed its pool: %+v, want a ready code", c)
	}
	if res, _ := b.fleet.Keypad(device, c.Code); res.Result != sim.KeypadUnlocked {
		t.Errorf("the late code does not open the door: %+v", res)
	}
}

// A link reveals a code re-given from an earlier link; the reveal email
// says the code works "for 24 hours", so it must at least outlive the link
// that revealed it.
func TestReissuedCodeOutlivesTheLinkThatRevealedIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.reveal(t, b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail))
	b.at(t, testkit.T0.Add(23*time.Hour+50*time.Minute))
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	c := b.reveal(t, token)
	if c.Code != first.Code {
		t.Logf("the second link gave a fresh code")
	}
	b.at(t, testkit.T0.Add(24*time.Hour+time.Minute))
	b.sync(t)
	if again := b.reveal(t, token); again != c {
		t.Errorf("within the link's life the code went from %+v to %+v", c, again)
	}
	if res, _ := b.fleet.Keypad(testkit.AnaLock, c.Code); res.Result != sim.KeypadUnlocked {
		t.Errorf("a code revealed 11 minutes ago no longer opens the door: %+v", res)
	}
}

// Revealing a link whose code was used shows it as used and gives out no
// other code behind the resident's back.
func TestRevealAfterUseIssuesNothingNew(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	code := b.reveal(t, token)
	if res, err := b.fleet.Keypad(testkit.AnaLock, code.Code); err != nil || res.Result != sim.KeypadUnlocked {
		t.Fatalf("keypad: %+v, %v", res, err)
	}
	issued := len(b.db.AuditOf(t, "backup_code.issued"))
	if got := b.reveal(t, token); got.Status != lockout.CodeUsed || got.Code != "" {
		t.Fatalf("reveal after use = %+v, want used without a code", got)
	}
	if n := len(b.db.AuditOf(t, "backup_code.issued")); n != issued {
		t.Errorf("revealing a used link issued %d more codes", n-issued)
	}
}

// A held code the lock lost (a reset) is shown as being put back, not as
// ready, until the lock confirms it again.
func TestCodeTheLockLostShowsProgramming(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	ready := b.reveal(t, token)
	if err := b.access.Reconciler.Resync(b.ctx, testkit.AnaLock); err != nil {
		t.Fatal(err)
	}
	if c := b.reveal(t, token); c.Status != lockout.CodeProgramming || c.Code != ready.Code {
		t.Fatalf("after the lock lost its codes: %+v, want the same code as programming", c)
	}
	b.sync(t)
	if c := b.reveal(t, token); c.Status != lockout.CodeReady || c.Code != ready.Code {
		t.Fatalf("after the lock has it again: %+v, want it ready", c)
	}
}
