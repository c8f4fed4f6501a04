package resident_test

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/locale"
	"sparekey/resident"
)

func TestRequestSignInByEmailSendsCodeAndLinkToTheAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	s := b.requestSent(t, "  Ana@Example.COM ", testkit.AnaPhone, testkit.AnaEmail)
	if !regexp.MustCompile(`^\d{6}$`).MatchString(s.code) {
		t.Errorf("code %q is not six digits", s.code)
	}
	if len(s.token) < 22 || s.token == s.handle {
		t.Errorf("token %q: want at least 128 bits, not the handle", s.token)
	}
	if n := b.queued.Load(); n != 1 {
		t.Errorf("Queued called %d times, want 1", n)
	}
	in := b.signInByHandle(t, s.handle)
	if in.ResidentID != r.ID || in.Attempts != 0 || in.UsedAt != nil || in.IP != testIP ||
		!in.CreatedAt.Equal(testkit.T0) || !in.ExpiresAt.Equal(testkit.T0.Add(sparekey.SignInTTL)) {
		t.Errorf("stored sign-in %+v", in)
	}
	if in.TokenHash != b.keys.Hash(sparekey.HashSignInToken, s.token) {
		t.Error("the stored token hash is not the keyed hash of the link's token")
	}
	evs := b.db.AuditOf(t, "resident.sign_in_requested")
	if len(evs) != 1 {
		t.Fatalf("%d sign_in_requested lines, want 1", len(evs))
	}
	e := evs[0]
	if e.Actor != "anonymous" || e.Subject != fmt.Sprintf("resident:%d", r.ID) || e.IP != testIP || e.UserAgent != testUA ||
		e.Detail["kind"] != "email" || e.Detail["outcome"] != "sent" {
		t.Errorf("audit line %+v", e)
	}
	if n := len(b.db.AuditOf(t, "message.queued")); n != 2 {
		t.Errorf("%d message.queued lines, want 2", n)
	}
}

func TestRequestSignInByPhoneSendsToTheAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, typed := range []string{"(201) 555-0101", "+1 201 555 0101", testkit.AnaPhone} {
		b.requestSent(t, typed, testkit.AnaPhone, testkit.AnaEmail)
	}
	for _, e := range b.db.AuditOf(t, "resident.sign_in_requested") {
		if e.Detail["kind"] != "phone" || e.Detail["outcome"] != "sent" {
			t.Errorf("audit detail %v", e.Detail)
		}
	}
}

// A contact that is nobody's gets the same answer, a handle, and nothing
// is sent: not to the account, not to the value typed.
func TestRequestSignInForNobodySendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, typed := range []string{"nobody@example.com", testkit.StrangerPhone, "(201) 555-0177"} {
		handle := b.request(t, typed)
		if in := b.signInByHandle(t, handle); in.ResidentID != 0 {
			t.Errorf("%s: sign-in of resident %d, want none", typed, in.ResidentID)
		}
	}
	sameList(t, "sent", b.sent(t), []string{})
	if ms := b.messages(t, "sign_in"); len(ms) != 0 {
		t.Errorf("%d messages queued", len(ms))
	}
	if n := b.queued.Load(); n != 0 {
		t.Errorf("Queued called %d times, want 0", n)
	}
	sameList(t, "outcomes", b.outcomes(t), []string{"no_match", "no_match", "no_match"})
	for _, e := range b.db.AuditOf(t, "resident.sign_in_requested") {
		if e.Subject != "resident:unknown" || e.Actor != "anonymous" || e.IP != testIP {
			t.Errorf("audit line %+v", e)
		}
	}
}

// Typing a code for a sign-in that matched nobody fails exactly as a wrong
// code for a real one does, try after try.
func TestSignInForNobodyFailsLikeAWrongCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	real := b.requestAna(t)
	nobody := b.request(t, "nobody@example.com")
	stranger := b.request(t, testkit.StrangerPhone)
	for i := 1; i <= resident.MaxCodeTries+1; i++ {
		_, want := b.svc.SignInWithCode(b.ctx, real.handle, wrongCode(real.code), visit)
		for _, handle := range []string{nobody, stranger} {
			token, err := b.svc.SignInWithCode(b.ctx, handle, fmt.Sprintf("%06d", 123456+i), visit)
			if token != "" || sparekey.ErrorCode(err) != sparekey.ErrorCode(want) || sparekey.ErrorMessage(err) != sparekey.ErrorMessage(want) {
				t.Errorf("try %d: nobody's sign-in answered %q, %v (%s); a wrong code %v (%s)", i, token,
					err, sparekey.ErrorCode(err), want, sparekey.ErrorCode(want))
			}
		}
		if i < resident.MaxCodeTries && sparekey.ErrorCode(want) != sparekey.EINVALID {
			t.Fatalf("try %d: wrong code answered %v, want %s", i, want, sparekey.EINVALID)
		}
	}
}

func TestRequestSignInRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, typed := range []string{
		"", "   ", "ana", "ana@", "@example.com", "ana@example", "Ana <ana@example.com>",
		"ana@example.com, ben@example.com", "12", "555-0101x", "\xff\xfe",
		strings.Repeat("a", 250) + "@example.com",
	} {
		handle, err := b.svc.RequestSignIn(b.ctx, typed, visit)
		wantCode(t, fmt.Sprintf("RequestSignIn(%q)", typed), err, sparekey.EINVALIDCONTACT)
		if handle != "" {
			t.Errorf("RequestSignIn(%q) gave a handle", typed)
		}
	}
	if n := len(b.db.AuditOf(t, "resident.sign_in_requested")); n != 0 {
		t.Errorf("%d requests recorded, want none", n)
	}
	sameList(t, "sent", b.sent(t), []string{})
}

// Messages go to the contacts on the account, never to what was typed.
func TestRequestSignInSendsOnlyToTheAccountsContacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.StrangerPhone)
	b.requestSent(t, "ANA@example.com", testkit.AnaPhone, testkit.AnaEmail)
	b.requestSent(t, testkit.BenPhone, testkit.BenPhone, testkit.BenEmail)
	sameList(t, "sent", b.sent(t), []string{"sms:" + testkit.AnaPhone, "email:" + testkit.AnaEmail, "sms:" + testkit.BenPhone, "email:" + testkit.BenEmail})
}

func TestRequestSignInForAMovedOutResidentSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.moveOut(t, testkit.AnaEmail)
	for _, typed := range []string{testkit.AnaEmail, testkit.AnaPhone} {
		handle := b.request(t, typed)
		_, err := b.svc.SignInWithCode(b.ctx, handle, "123456", visit)
		wantCode(t, "SignInWithCode", err, sparekey.EINVALID)
	}
	sameList(t, "sent", b.sent(t), []string{})
	sameList(t, "outcomes", b.outcomes(t), []string{"no_match", "no_match"})
}

// Over the limit an hour, the answer is the same, nothing is sent and the
// attempt made cannot sign in, not even with the code it was given.
func TestRequestSignInThrottled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	limit := 5 // the default SignInLimit
	for range limit {
		b.requestAna(t)
	}
	b.clock.Advance(59 * time.Minute)
	throttled := b.request(t, testkit.AnaEmail)
	if n := len(b.messages(t, "sign_in")); n != 2*limit {
		t.Fatalf("%d sign-in messages, want %d", n, 2*limit)
	}
	if n := b.queued.Load(); n != int64(limit) {
		t.Errorf("Queued called %d times, want %d", n, limit)
	}
	in := b.signInByHandle(t, throttled)
	if in.ResidentID != 0 {
		t.Errorf("the throttled sign-in is resident %d's, want nobody's", in.ResidentID)
	}
	// Whatever code it holds does not work: find it from its hash.
	code := ""
	for n := range 1_000_000 {
		c := fmt.Sprintf("%06d", n)
		if b.keys.Hash(sparekey.HashSignInCode, in.HandleHash+":"+c) == in.CodeHash {
			code = c
			break
		}
	}
	if code == "" {
		t.Fatal("no six-digit code hashes to the throttled sign-in's code hash")
	}
	_, err := b.svc.SignInWithCode(b.ctx, throttled, code, visit)
	wantCode(t, "the throttled attempt's own code", err, sparekey.EINVALID)

	// The hour excludes its start: an hour after the first five, a code
	// goes out again.
	b.clock.Advance(time.Minute)
	s := b.requestAna(t)
	b.session(t, s)
	sameList(t, "outcomes", b.outcomes(t), []string{"sent", "sent", "sent", "sent", "sent", "throttled", "sent"})
	for _, e := range b.db.AuditOf(t, "resident.sign_in_requested") {
		if e.Subject != fmt.Sprintf("resident:%d", r.ID) {
			t.Errorf("audit subject %q", e.Subject)
		}
	}
}

func TestSignInLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *resident.Config) { c.SignInLimit = 1 })
	b.requestAna(t)
	b.request(t, testkit.AnaPhone)
	sameList(t, "outcomes", b.outcomes(t), []string{"sent", "throttled"})
}

func TestSignInWithCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	s := b.requestAna(t)
	b.clock.Advance(time.Minute)
	token := b.session(t, s)
	got, err := b.svc.Session(b.ctx, token)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if got.ID != r.ID || got.Email != testkit.AnaEmail {
		t.Errorf("Session gave resident %d %s, want Ana (%d)", got.ID, got.Email, r.ID)
	}
	in := b.signInByHandle(t, s.handle)
	if in.UsedAt == nil || !in.UsedAt.Equal(testkit.T0.Add(time.Minute)) || in.Attempts != 1 {
		t.Errorf("stored sign-in %+v, want used at %v after 1 attempt", in, testkit.T0.Add(time.Minute))
	}
	evs := b.db.AuditOf(t, "resident.signed_in")
	who := fmt.Sprintf("resident:%d", r.ID)
	if len(evs) != 1 || evs[0].Actor != who || evs[0].Subject != who || evs[0].IP != testIP || evs[0].UserAgent != testUA {
		t.Errorf("signed_in lines %+v", evs)
	}

	// It works once: the code, the link and the link check are done.
	_, err = b.svc.SignInWithCode(b.ctx, s.handle, s.code, visit)
	wantCode(t, "the code again", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithLink(b.ctx, s.token, visit)
	wantCode(t, "the link after the code", err, sparekey.ELINKEXPIRED)
	wantCode(t, "CheckLink after the code", b.svc.CheckLink(b.ctx, s.token), sparekey.ELINKEXPIRED)
	if n := len(b.db.AuditOf(t, "resident.signed_in")); n != 1 {
		t.Errorf("%d signed_in lines, want 1", n)
	}
}

func TestSignInWithCodeTakesSpaces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, typed := range []func(code string) string{
		func(c string) string { return c[:3] + " " + c[3:] },
		func(c string) string { return " " + strings.Join(strings.Split(c, ""), " ") + " " },
		func(c string) string { return "\t" + c + "\n" },
	} {
		s := b.requestAna(t)
		code := typed(s.code)
		if _, err := b.svc.SignInWithCode(b.ctx, s.handle, code, visit); err != nil {
			t.Errorf("SignInWithCode(%q): %v", code, err)
		}
	}
}

// A wrong code is invalid_request and counts, though the call failed; after
// MaxCodeTries wrong codes even the right one fails, and so does the link.
func TestWrongCodesCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.requestAna(t)
	wrong := []string{wrongCode(s.code), "12345", "1234567", "abcdef", wrongCode(s.code)}
	if len(wrong) != resident.MaxCodeTries {
		t.Fatalf("MaxCodeTries is %d, the test tries %d codes", resident.MaxCodeTries, len(wrong))
	}
	for i, code := range wrong {
		token, err := b.svc.SignInWithCode(b.ctx, s.handle, code, visit)
		if token != "" {
			t.Fatalf("wrong code %q gave a session", code)
		}
		want := sparekey.EINVALID
		if i == len(wrong)-1 {
			want = sparekey.ERATELIMITED
		}
		wantCode(t, fmt.Sprintf("wrong code %d", i+1), err, want)
		if strings.Contains(err.Error(), s.code) {
			t.Errorf("the error %q holds the code", err)
		}
		if in := b.signInByHandle(t, s.handle); in.Attempts != i+1 {
			t.Fatalf("after %d wrong codes the sign-in counts %d", i+1, in.Attempts)
		}
	}
	_, err := b.svc.SignInWithCode(b.ctx, s.handle, s.code, visit)
	wantCode(t, "the right code after too many wrong ones", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithLink(b.ctx, s.token, visit)
	wantCode(t, "the link after too many wrong codes", err, sparekey.ELINKEXPIRED)
	if in := b.signInByHandle(t, s.handle); in.Attempts != resident.MaxCodeTries || in.UsedAt != nil {
		t.Errorf("stored sign-in %+v", in)
	}
	if n := len(b.db.AuditOf(t, "resident.signed_in")); n != 0 {
		t.Errorf("%d signed_in lines, want 0", n)
	}
}

// Codes and links work until SignInTTL has passed, and not at SignInTTL.
func TestSignInExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	byCode, lateCode, byLink, lateLink := b.requestAna(t), b.requestAna(t), b.requestAna(t), b.requestAna(t)
	b.clock.Advance(sparekey.SignInTTL - time.Microsecond)
	b.session(t, byCode)
	if err := b.svc.CheckLink(b.ctx, lateLink.token); err != nil {
		t.Errorf("CheckLink just before expiry: %v", err)
	}
	if _, err := b.svc.SignInWithLink(b.ctx, byLink.token, visit); err != nil {
		t.Errorf("SignInWithLink just before expiry: %v", err)
	}

	b.clock.Advance(time.Microsecond)
	_, err := b.svc.SignInWithCode(b.ctx, lateCode.handle, lateCode.code, visit)
	wantCode(t, "code at expiry", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithCode(b.ctx, lateCode.handle, wrongCode(lateCode.code), visit)
	wantCode(t, "wrong code at expiry", err, sparekey.ELINKEXPIRED)
	wantCode(t, "CheckLink at expiry", b.svc.CheckLink(b.ctx, lateLink.token), sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithLink(b.ctx, lateLink.token, visit)
	wantCode(t, "link at expiry", err, sparekey.ELINKEXPIRED)
	if in := b.signInByHandle(t, lateCode.handle); in.Attempts != 0 {
		t.Errorf("an expired sign-in counted %d attempts", in.Attempts)
	}
}

func TestSignInWithLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	s := b.requestAna(t)
	// Checking the link uses nothing up.
	for range 3 {
		if err := b.svc.CheckLink(b.ctx, s.token); err != nil {
			t.Fatalf("CheckLink: %v", err)
		}
	}
	if in := b.signInByHandle(t, s.handle); in.UsedAt != nil || in.Attempts != 0 {
		t.Errorf("CheckLink changed the sign-in: %+v", in)
	}
	token, err := b.svc.SignInWithLink(b.ctx, s.token, resident.Visit{IP: "198.51.100.9", UserAgent: "other phone"})
	if err != nil {
		t.Fatalf("SignInWithLink: %v", err)
	}
	if got, err := b.svc.Session(b.ctx, token); err != nil || got.ID != r.ID {
		t.Fatalf("Session = %v, %v; want Ana", got, err)
	}
	_, err = b.svc.SignInWithLink(b.ctx, s.token, visit)
	wantCode(t, "the link again", err, sparekey.ELINKEXPIRED)
	wantCode(t, "CheckLink after use", b.svc.CheckLink(b.ctx, s.token), sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithCode(b.ctx, s.handle, s.code, visit)
	wantCode(t, "the code after the link", err, sparekey.ELINKEXPIRED)

	for _, bad := range []string{"", "nope", strings.Repeat("A", 43), s.handle} {
		wantCode(t, fmt.Sprintf("CheckLink(%q)", bad), b.svc.CheckLink(b.ctx, bad), sparekey.ELINKEXPIRED)
		_, err := b.svc.SignInWithLink(b.ctx, bad, visit)
		wantCode(t, fmt.Sprintf("SignInWithLink(%q)", bad), err, sparekey.ELINKEXPIRED)
	}
	evs := b.db.AuditOf(t, "resident.signed_in")
	if len(evs) != 1 || evs[0].IP != "198.51.100.9" || evs[0].UserAgent != "other phone" {
		t.Errorf("signed_in lines %+v", evs)
	}
}

// A code works only for the attempt that sent it.
func TestCodeWorksOnlyForItsAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.requestAna(t)
	second := b.requestAna(t)
	for second.code == first.code { // one chance in a million
		second = b.requestAna(t)
	}
	bens := b.requestSent(t, testkit.BenEmail, testkit.BenPhone, testkit.BenEmail)
	for _, handle := range []string{second.handle, bens.handle} {
		_, err := b.svc.SignInWithCode(b.ctx, handle, first.code, visit)
		wantCode(t, "another attempt's code", err, sparekey.EINVALID)
	}
	_, err := b.svc.SignInWithCode(b.ctx, first.token, first.code, visit)
	wantCode(t, "the link's token as a handle", err, sparekey.ELINKEXPIRED)
	_, err = b.svc.SignInWithCode(b.ctx, "", first.code, visit)
	wantCode(t, "no handle", err, sparekey.ELINKEXPIRED)
	token := b.session(t, first)
	if got, err := b.svc.Session(b.ctx, token); err != nil || got.Email != testkit.AnaEmail {
		t.Errorf("Session = %v, %v; want Ana", got, err)
	}
	token = b.session(t, bens)
	if got, err := b.svc.Session(b.ctx, token); err != nil || got.Email != testkit.BenEmail {
		t.Errorf("Session = %v, %v; want Ben", got, err)
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.session(t, b.requestAna(t))
	b.clock.Advance(30*24*time.Hour - time.Microsecond) // the default SessionTTL
	if _, err := b.svc.Session(b.ctx, token); err != nil {
		t.Fatalf("Session just before expiry: %v", err)
	}
	b.clock.Advance(time.Microsecond)
	_, err := b.svc.Session(b.ctx, token)
	wantCode(t, "Session at expiry", err, sparekey.EUNAUTHORIZED)

	// The next sign-in sweeps the expired session away.
	b.session(t, b.requestAna(t))
	b.db.MustRead(t, func(tx sparekey.Tx) error {
		_, err := tx.ResidentSessionByTokenHash(b.ctx, b.keys.Hash(sparekey.HashResidentToken, token))
		wantCode(t, "the expired session after a sweep", err, sparekey.ENOTFOUND)
		return nil
	})

	for _, bad := range []string{"", "nope", strings.Repeat("A", 101), token + "x"} {
		_, err := b.svc.Session(b.ctx, bad)
		wantCode(t, fmt.Sprintf("Session(%q)", bad), err, sparekey.EUNAUTHORIZED)
	}
}

func TestSessionTTLIsConfigurable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *resident.Config) { c.SessionTTL = time.Hour })
	token := b.session(t, b.requestAna(t))
	b.clock.Advance(time.Hour)
	_, err := b.svc.Session(b.ctx, token)
	wantCode(t, "Session after SessionTTL", err, sparekey.EUNAUTHORIZED)
}

func TestSessionEndsWhenTheResidentMovesOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.session(t, b.requestAna(t))
	pending := b.requestAna(t)
	b.moveOut(t, testkit.AnaEmail)
	_, err := b.svc.Session(b.ctx, token)
	wantCode(t, "Session of a moved-out resident", err, sparekey.EUNAUTHORIZED)
	_, err = b.svc.SignInWithCode(b.ctx, pending.handle, pending.code, visit)
	wantCode(t, "a code sent before moving out", err, sparekey.ELINKEXPIRED)
	if in := b.signInByHandle(t, pending.handle); in.UsedAt == nil {
		t.Error("the sign-in is still usable")
	}
	if n := len(b.db.AuditOf(t, "resident.signed_in")); n != 1 {
		t.Errorf("%d signed_in lines, want 1", n)
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	laptop := b.session(t, b.requestAna(t))
	phone := b.session(t, b.requestAna(t))
	if err := b.svc.SignOut(b.ctx, laptop); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	_, err := b.svc.Session(b.ctx, laptop)
	wantCode(t, "Session after SignOut", err, sparekey.EUNAUTHORIZED)
	if got, err := b.svc.Session(b.ctx, phone); err != nil || got.ID != r.ID {
		t.Errorf("the other session: %v, %v", got, err)
	}
	for _, again := range []string{laptop, "", "nope"} {
		if err := b.svc.SignOut(b.ctx, again); err != nil {
			t.Errorf("SignOut(%q) = %v, want nil", again, err)
		}
	}
	evs := b.db.AuditOf(t, "resident.signed_out")
	who := fmt.Sprintf("resident:%d", r.ID)
	if len(evs) != 1 || evs[0].Actor != who || evs[0].Subject != who {
		t.Errorf("signed_out lines %+v", evs)
	}
}

// Handles, codes, link tokens, session tokens and door codes never reach
// the audit trail or the logs; only keyed hashes of the secrets are
// stored.
func TestSecretsStayOutOfAuditAndLogs(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *resident.Config) { c.SignInLimit = 3 })
	r := b.db.Resident(t, testkit.AnaEmail)
	var secrets []string
	keep := func(s signIn) signIn {
		secrets = append(secrets, s.handle, s.token)
		return s
	}
	var codes []string
	byCode := keep(b.requestAna(t))
	byPhone := keep(b.requestSent(t, "(201) 555-0101", testkit.AnaPhone, testkit.AnaEmail))
	unused := keep(b.requestAna(t))
	codes = append(codes, byCode.code, byPhone.code, unused.code)
	secrets = append(secrets, b.request(t, testkit.AnaEmail), b.request(t, "nobody@example.com"), b.request(t, testkit.StrangerPhone))

	_, err := b.svc.SignInWithCode(b.ctx, byCode.handle, wrongCode(byCode.code), visit)
	wantCode(t, "wrong code", err, sparekey.EINVALID)
	session := b.session(t, byCode)
	if err := b.svc.CheckLink(b.ctx, byPhone.token); err != nil {
		t.Fatal(err)
	}
	linked, err := b.svc.SignInWithLink(b.ctx, byPhone.token, visit)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, session, linked)
	if _, err := b.svc.Session(b.ctx, session); err != nil {
		t.Fatal(err)
	}
	if a, err := b.svc.AccessCodes(b.ctx, r.ID, true, visit); err != nil || len(a.Codes) != 1 || a.Codes[0].Code != testkit.AnaCode {
		t.Fatalf("AccessCodes = %+v, %v", a, err)
	}
	if err := b.svc.SignOut(b.ctx, session); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(sparekey.SignInTTL)
	_, err = b.svc.SignInWithLink(b.ctx, unused.token, visit)
	wantCode(t, "expired link", err, sparekey.ELINKEXPIRED)

	sameList(t, "outcomes", b.outcomes(t), []string{"sent", "sent", "sent", "throttled", "no_match", "no_match"})
	if n := len(b.db.AuditOf(t, "resident.signed_in")); n != 2 {
		t.Errorf("%d signed_in lines, want 2", n)
	}
	trail, logs := b.auditText(t), b.logs.String()
	for _, s := range append(append(secrets, codes...), testkit.AnaCode) {
		if strings.Contains(trail, s) {
			t.Errorf("the audit trail holds the secret %q:\n%s", s, trail)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold the secret %q:\n%s", s, logs)
		}
	}
	// Six digits may turn up in hex by chance; the long secrets may not.
	dump := b.dump(t)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("the database holds the secret %q in the clear", s)
		}
	}
}

// Requests at once for one account still send no more than the limit.
func TestConcurrentRequestsKeepTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		typed := testkit.AnaEmail
		if i%2 == 1 {
			typed = testkit.AnaPhone
		}
		wg.Go(func() {
			if _, err := b.svc.RequestSignIn(b.ctx, typed, visit); err != nil {
				t.Errorf("RequestSignIn: %v", err)
			}
		})
	}
	wg.Wait()
	// Several workers (instances) answer at once.
	for range 4 {
		wg.Go(func() {
			for {
				n, err := b.svc.RunOnce(b.ctx)
				if err != nil {
					t.Errorf("RunOnce: %v", err)
				}
				if n == 0 || err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if got := len(b.messages(t, "sign_in")); got != 2*5 {
		t.Errorf("%d sign-in messages, want %d (the default SignInLimit of 5, twice)", got, 2*5)
	}
	sent := 0
	for _, o := range b.outcomes(t) {
		if o == "sent" {
			sent++
		}
	}
	if sent != 5 {
		t.Errorf("%d requests sent, want 5: %v", sent, b.outcomes(t))
	}
}

// A code typed at once in many browsers signs in once; wrong codes typed
// at once count every one of them.
func TestConcurrentCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	right, wrong := b.requestAna(t), b.requestAna(t)
	const n = 12
	var mu sync.Mutex
	tokens, codes := 0, map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			token, err := b.svc.SignInWithCode(b.ctx, right.handle, right.code, visit)
			_, werr := b.svc.SignInWithCode(b.ctx, wrong.handle, wrongCode(wrong.code), visit)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && token != "" {
				tokens++
			} else if sparekey.ErrorCode(err) != sparekey.ELINKEXPIRED {
				t.Errorf("the right code again: %v", err)
			}
			codes[sparekey.ErrorCode(werr)]++
		})
	}
	wg.Wait()
	if tokens != 1 {
		t.Errorf("%d sessions from one code, want 1", tokens)
	}
	want := map[string]int{sparekey.EINVALID: resident.MaxCodeTries - 1, sparekey.ERATELIMITED: 1,
		sparekey.ELINKEXPIRED: n - resident.MaxCodeTries}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("wrong codes answered %v, want %v", codes, want)
	}
	if in := b.signInByHandle(t, wrong.handle); in.Attempts != resident.MaxCodeTries {
		t.Errorf("the sign-in counts %d attempts, want %d", in.Attempts, resident.MaxCodeTries)
	}
}

// Asking to sign in, and failing to, changes nothing else: a session
// already open stays open.
func TestRequestSignInLeavesSessionsAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.session(t, b.requestAna(t))
	s := b.requestAna(t)
	for range resident.MaxCodeTries {
		b.svc.SignInWithCode(b.ctx, s.handle, wrongCode(s.code), visit)
	}
	if got, err := b.svc.Session(b.ctx, token); err != nil || got.Email != testkit.AnaEmail {
		t.Errorf("Session after a new request and wrong codes = %v, %v", got, err)
	}
}

// A long user agent is cut before it reaches the audit trail.
func TestUserAgentIsTruncated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	long := resident.Visit{IP: testIP, UserAgent: strings.Repeat("u", 1000)}
	if _, err := b.svc.RequestSignIn(b.ctx, testkit.AnaEmail, long); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	s := signIn{}
	for _, m := range b.messages(t, "sign_in") {
		s.token = linkPattern.FindStringSubmatch(m.Body)[1]
	}
	if _, err := b.svc.SignInWithLink(b.ctx, s.token, long); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"resident.sign_in_requested", "resident.signed_in"} {
		for _, e := range b.db.AuditOf(t, action) {
			if len(e.UserAgent) != 256 {
				t.Errorf("%s: user agent of %d bytes, want 256", action, len(e.UserAgent))
			}
		}
	}
}

// Sign-in attempts hold the client's IP: a day on, the next request
// deletes them, whether they matched an account or not; younger ones stay.
func TestOldSignInsAreDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old, nobody := b.requestAna(t).handle, b.request(t, "nobody@example.com")
	b.clock.Advance(resident.SignInKeep - time.Second)
	young := b.request(t, "nobody@example.com")
	b.clock.Advance(2 * time.Second)
	b.request(t, "nobody@example.com")
	for _, c := range []struct {
		name, handle string
		kept         bool
	}{{"Ana's day-old sign-in", old, false}, {"a day-old sign-in for nobody", nobody, false}, {"a younger sign-in", young, true}} {
		var err error
		b.db.MustRead(t, func(tx sparekey.Tx) error {
			_, err = tx.SignInByHandleHash(b.ctx, b.keys.Hash(sparekey.HashSignInHandle, c.handle))
			return nil
		})
		if kept := err == nil; kept != c.kept {
			t.Errorf("%s: kept = %v (%v), want %v", c.name, kept, err, c.kept)
		}
	}
}

// A sign-in asked for on a Spanish page is sent in Spanish; the SMS keeps
// to the GSM alphabet (no accents), like the backup link's.
func TestSignInMessagesInSpanish(t *testing.T) {
	t.Parallel()
	b := setup(t)
	es := visit
	es.Language = locale.Spanish
	if _, err := b.svc.RequestSignIn(b.ctx, testkit.AnaEmail, es); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	ms := b.messages(t, "sign_in")
	if len(ms) != 2 {
		t.Fatalf("%d sign-in messages, want 2", len(ms))
	}
	sms, mail := ms[0], ms[1]
	for _, m := range ms { // not worth sending once the code expires
		if want := testkit.T0.Add(sparekey.SignInTTL); !m.ValidUntil.Equal(want) {
			t.Errorf("%s valid until %v, want %v", m.Channel, m.ValidUntil, want)
		}
	}
	if !regexp.MustCompile(`^Codigo para iniciar sesion en Sparekey: \d{6} \(vale 15 min\)\. O abre ` + regexp.QuoteMeta(baseURL) + `/app/sign-in/link/[A-Za-z0-9_-]+ ¿No lo pediste\? Ignoralo\.$`).MatchString(sms.Body) {
		t.Errorf("Spanish sign-in SMS = %q", sms.Body)
	}
	if strings.ContainsAny(sms.Body, "áíóúÁÍÓÚ") {
		t.Errorf("Spanish sign-in SMS has accents outside the GSM alphabet: %q", sms.Body)
	}
	if !strings.HasPrefix(mail.Subject, "Tu código para iniciar sesión en Sparekey: ") || !strings.HasPrefix(mail.Body, "Hola, Ana:") {
		t.Errorf("Spanish sign-in email: %q\n%s", mail.Subject, mail.Body)
	}
	// Her code shown on a Spanish page: the notice is in Spanish too.
	if _, err := b.svc.AccessCodes(b.ctx, b.db.Resident(t, testkit.AnaEmail).ID, true, es); err != nil {
		t.Fatal(err)
	}
	if got := b.messages(t, "access_code_revealed"); len(got) != 1 || got[0].Subject != "Se mostró tu código de acceso en la app" {
		t.Errorf("access code notice after a reveal in Spanish: %+v", got)
	}
}

// The hourly sweep deletes day-old sign-in attempts and expired sessions
// even when nobody signs in; younger ones stay.
func TestSweep(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *resident.Config) { c.SessionTTL = time.Hour })
	old := b.requestAna(t)
	b.clock.Advance(resident.SignInKeep - time.Minute)
	young := b.requestAna(t)
	session := b.session(t, young)
	kept := func(when string, want map[string]bool) {
		t.Helper()
		if err := b.svc.Sweep(b.ctx); err != nil {
			t.Fatal(err)
		}
		b.db.MustRead(t, func(tx sparekey.Tx) error {
			got := map[string]bool{
				"day-old sign-in": errOf(tx.SignInByHandleHash(b.ctx, b.keys.Hash(sparekey.HashSignInHandle, old.handle))) == nil,
				"younger sign-in": errOf(tx.SignInByHandleHash(b.ctx, b.keys.Hash(sparekey.HashSignInHandle, young.handle))) == nil,
				"session":         errOf(tx.ResidentSessionByTokenHash(b.ctx, b.keys.Hash(sparekey.HashResidentToken, session))) == nil,
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: kept %v, want %v", when, got, want)
			}
			return nil
		})
	}
	b.clock.Advance(2 * time.Minute)
	kept("a day after the first sign-in", map[string]bool{"day-old sign-in": false, "younger sign-in": true, "session": true})
	b.clock.Advance(time.Hour)
	kept("once the session expired", map[string]bool{"day-old sign-in": false, "younger sign-in": true, "session": false})
}

func errOf[T any](_ T, err error) error { return err }

// Like Get Code (docs/security.md rule 2), a sign-in request only validates and
// records: its time must not depend on whether the contact is an
// account's, which it does not look up. Known and unknown medians stay
// within noise.
func TestRequestSignInTimeDoesNotDependOnAccount(t *testing.T) {
	testkit.SkipShort(t, "the timing test (known vs unknown medians)")
	b := setup(t, func(c *resident.Config) { c.SignInLimit = 1 << 30 })
	const n = 150
	testkit.SameTime(t, n, func(known bool) {
		typed := "nobody@example.org"
		if known {
			typed = testkit.AnaEmail
		}
		if _, err := b.svc.RequestSignIn(b.ctx, typed, visit); err != nil {
			t.Fatal(err)
		}
	})
	if got := len(b.messages(t, "sign_in")); got != 0 {
		t.Errorf("the requests queued %d messages themselves, want none before the job runs", got)
	}
	answered := 0
	for k := b.run(t); k > 0; k = b.run(t) {
		answered += k
	}
	if answered != 2*n {
		t.Errorf("the job answered %d requests, want all %d", answered, 2*n)
	}
	if got := len(b.messages(t, "sign_in")); got != 2*n {
		t.Errorf("after the job: %d sign-in messages, want %d (Ana's %d requests, SMS and email)", got, 2*n, n)
	}
}

// Until the job answers, a sign-in holds no code that works; a job that
// answers only after the code would have expired sends nothing.
func TestSignInWaitsForTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	handle, err := b.svc.RequestSignIn(b.ctx, testkit.AnaEmail, visit)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"000000", "123456"} {
		_, err := b.svc.SignInWithCode(b.ctx, handle, code, visit)
		wantCode(t, "a code before the job answered", err, sparekey.EINVALID)
	}
	if got := b.messages(t, "sign_in"); len(got) != 0 {
		t.Fatalf("messages before the job ran: %+v", got)
	}
	b.run(t)
	if got := b.messages(t, "sign_in"); len(got) != 2 {
		t.Fatalf("%d messages after the job ran, want the SMS and the email", len(got))
	}

	late, err := b.svc.RequestSignIn(b.ctx, testkit.AnaEmail, visit)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(sparekey.SignInTTL)
	b.run(t)
	if got := b.messages(t, "sign_in"); len(got) != 2 {
		t.Errorf("a late answer sent messages: %d in all, want the first 2", len(got))
	}
	if in := b.signInByHandle(t, late); in.Outcome != sparekey.OutcomeExpired || in.Secret != "" || in.ResidentID != 0 {
		t.Errorf("late sign-in = %+v, want expired, its secret dropped, nobody's", in)
	}
}
