package staff_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/staff"
)

func TestAdd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st, err := b.svc.Add(b.ctx, staff.NewAccount{Email: "  Mia.Lopez@Example.COM ", Name: " Mia Lopez ",
		Role: sparekey.RoleMaintenance, Password: password, Properties: []string{" " + testkit.Maple + " ", testkit.Maple}}) // named twice: once
	if err != nil {
		t.Fatal(err)
	}
	if st.ID == 0 || st.Email != "mia.lopez@example.com" || st.Name != "Mia Lopez" || st.Role != sparekey.RoleMaintenance ||
		!slices.Equal(st.Properties, []int64{b.maple.ID}) || !st.CreatedAt.Equal(testkit.T0) || st.FailedLogins != 0 || st.LockedUntil != nil {
		t.Errorf("account = %+v", st)
	}
	stored := b.staff(t, st.ID)
	if stored.Email != st.Email || !slices.Equal(stored.Properties, st.Properties) || stored.PasswordHash != st.PasswordHash {
		t.Errorf("stored = %+v", stored)
	}
	if ok, err := staff.CheckPassword(stored.PasswordHash, password); !ok || err != nil {
		t.Errorf("the stored hash does not check the password: %v, %v", ok, err)
	}
	created := b.db.AuditOf(t, "staff.created")
	if len(created) != 1 || created[0].Subject != fmt.Sprintf("staff:%d", st.ID) || created[0].Detail["role"] != "maintenance" {
		t.Errorf("audit = %+v", created)
	}

	// No properties named: every property; no name: the email.
	mgr, err := b.svc.Add(b.ctx, staff.NewAccount{Email: "boss@example.com", Role: sparekey.RoleManager, Password: "ten chars!"})
	if err != nil {
		t.Fatal(err)
	}
	if mgr.Name != "boss@example.com" || !slices.Equal(slices.Sorted(slices.Values(mgr.Properties)), []int64{b.maple.ID, b.birch.ID}) {
		t.Errorf("manager = %+v", mgr)
	}

	list, err := b.svc.List(b.ctx, b.birch.ID)
	if err != nil || len(list) != 1 || list[0].ID != mgr.ID {
		t.Errorf("List(Birch Hall) = %+v, %v", list, err)
	}
	if list, err := b.svc.List(b.ctx, 0); err != nil || len(list) != 2 {
		t.Errorf("List(all) = %+v, %v", list, err)
	}
	props, err := b.svc.Properties(b.ctx, []int64{b.birch.ID})
	if err != nil || len(props) != 1 || props[0].Name != birch {
		t.Errorf("Properties(Birch Hall) = %+v, %v", props, err)
	}
	if props, err := b.svc.Properties(b.ctx, nil); err != nil || len(props) != 2 {
		t.Errorf("Properties(nil) = %+v, %v", props, err)
	}
}

func TestAddRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ok := staff.NewAccount{Email: "mia@example.com", Name: "Mia", Role: sparekey.RoleMaintenance, Password: password}
	with := func(fn func(*staff.NewAccount)) staff.NewAccount {
		a := ok
		fn(&a)
		return a
	}
	for name, a := range map[string]staff.NewAccount{
		"no email":               with(func(a *staff.NewAccount) { a.Email = "" }),
		"not an email":           with(func(a *staff.NewAccount) { a.Email = "mia" }),
		"no domain":              with(func(a *staff.NewAccount) { a.Email = "mia@" }),
		"a name with the email":  with(func(a *staff.NewAccount) { a.Email = "Mia <mia@example.com>" }),
		"two addresses":          with(func(a *staff.NewAccount) { a.Email = "mia@example.com, bo@example.com" }),
		"no role":                with(func(a *staff.NewAccount) { a.Role = "" }),
		"an unknown role":        with(func(a *staff.NewAccount) { a.Role = "admin" }),
		"a role in capitals":     with(func(a *staff.NewAccount) { a.Role = "Manager" }),
		"no password":            with(func(a *staff.NewAccount) { a.Password = "" }),
		"9 characters":           with(func(a *staff.NewAccount) { a.Password = "123456789" }),
		"9 characters, 18 bytes": with(func(a *staff.NewAccount) { a.Password = "ééééééééé" }),
		"an unknown property":    with(func(a *staff.NewAccount) { a.Properties = []string{testkit.Maple, "Oak Towers"} }),
	} {
		_, err := b.svc.Add(b.ctx, a)
		wantCode(t, name, err, sparekey.EINVALID)
	}
	if list, err := b.svc.List(b.ctx, 0); err != nil || len(list) != 0 {
		t.Fatalf("refused accounts were created: %+v, %v", list, err)
	}

	if _, err := b.svc.Add(b.ctx, with(func(a *staff.NewAccount) { a.Password = "éééééééééé" })); err != nil {
		t.Fatalf("10 characters: %v", err)
	}
	for _, email := range []string{"mia@example.com", "MIA@Example.com", " mia@EXAMPLE.COM "} {
		_, err := b.svc.Add(b.ctx, with(func(a *staff.NewAccount) { a.Email = email }))
		wantCode(t, "a taken email "+email, err, sparekey.ECONFLICT)
		if want := "There is already an account for mia@example.com."; sparekey.ErrorMessage(err) != want {
			t.Errorf("message = %q, want %q", sparekey.ErrorMessage(err), want)
		}
	}
	if list, err := b.svc.List(b.ctx, 0); err != nil || len(list) != 1 {
		t.Errorf("accounts = %+v, %v; want one", list, err)
	}
}

func TestAddWithoutProperties(t *testing.T) {
	t.Parallel()
	b := bare(t)
	_, err := b.svc.Add(b.ctx, staff.NewAccount{Email: "mia@example.com", Role: sparekey.RoleManager, Password: password})
	wantCode(t, "Add to an empty database", err, sparekey.EINVALID)
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// A sign-in starts a session that lasts SessionTTL; signing out ends it.
func TestSignInSessionSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mia := b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)

	token, st := b.signIn(t, "  MIA@Example.com ", password)
	if !tokenPattern.MatchString(token) {
		t.Errorf("token %q is not 256 URL-safe bits", token)
	}
	if st.ID != mia.ID || st.PasswordHash == "" {
		t.Errorf("signed in as %+v", st)
	}
	got, err := b.svc.Session(b.ctx, token)
	if err != nil || got.ID != mia.ID || !slices.Equal(got.Properties, []int64{b.maple.ID}) {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	var sess *sparekey.StaffSession
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		sess, err = tx.StaffSessionByTokenHash(b.ctx, b.keys.Hash(staff.HashSession, token))
		return err
	})
	if sess.StaffID != mia.ID || !sess.CreatedAt.Equal(testkit.T0) || !sess.ExpiresAt.Equal(testkit.T0.Add(12*time.Hour)) ||
		sess.IP != visit.IP || sess.UserAgent != visit.UserAgent || sess.TokenHash == token {
		t.Errorf("session = %+v", sess)
	}
	in := b.db.AuditOf(t, "staff.signed_in")
	if len(in) != 1 || in[0].Actor != fmt.Sprintf("staff:%d", mia.ID) || in[0].Subject != in[0].Actor ||
		in[0].IP != visit.IP || in[0].UserAgent != visit.UserAgent {
		t.Errorf("audit = %+v", in)
	}

	b.clock.Advance(12*time.Hour - time.Second)
	if _, err := b.svc.Session(b.ctx, token); err != nil {
		t.Fatalf("Session a second before it expires: %v", err)
	}
	b.clock.Advance(time.Second)
	_, err = b.svc.Session(b.ctx, token)
	wantCode(t, "Session when it expires", err, sparekey.EUNAUTHORIZED)

	second, _ := b.signIn(t, "mia@example.com", password)
	if second == token {
		t.Fatal("a new sign-in gave the old token")
	}
	if err := b.svc.SignOut(b.ctx, second, visit); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Session(b.ctx, second)
	wantCode(t, "Session after signing out", err, sparekey.EUNAUTHORIZED)
	if out := b.db.AuditOf(t, "staff.signed_out"); len(out) != 1 || out[0].Subject != fmt.Sprintf("staff:%d", mia.ID) {
		t.Errorf("audit = %+v", out)
	}
	for _, tok := range []string{second, "no-such-token", ""} {
		if err := b.svc.SignOut(b.ctx, tok, visit); err != nil {
			t.Errorf("SignOut(%q) = %v", tok, err)
		}
	}
	if out := b.db.AuditOf(t, "staff.signed_out"); len(out) != 1 {
		t.Errorf("%d signed_out lines, want 1", len(out))
	}
	for _, tok := range []string{"", "no-such-token", strings.Repeat("a", 101), token + "x"} {
		_, err := b.svc.Session(b.ctx, tok)
		wantCode(t, fmt.Sprintf("Session(%q)", tok), err, sparekey.EUNAUTHORIZED)
	}
}

// SessionTTL is configurable.
func TestSessionTTL(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *staff.Config) { c.SessionTTL = time.Hour })
	b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)
	token, _ := b.signIn(t, "mia@example.com", password)
	b.clock.Advance(time.Hour - time.Microsecond)
	if _, err := b.svc.Session(b.ctx, token); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Microsecond)
	_, err := b.svc.Session(b.ctx, token)
	wantCode(t, "Session after an hour", err, sparekey.EUNAUTHORIZED)
}

// A wrong password and an unknown email get the same answer: it must not
// tell who has an account.
func TestWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mia := b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)

	_, _, wrong := b.svc.SignIn(b.ctx, "mia@example.com", "not the password", visit)
	_, _, unknown := b.svc.SignIn(b.ctx, "nobody@example.com", password, visit)
	_, _, tooLong := b.svc.SignIn(b.ctx, strings.Repeat("a", 250)+"@example.com", password, visit)
	_, _, hugePassword := b.svc.SignIn(b.ctx, "mia@example.com", strings.Repeat("p", 1025), visit)
	for name, err := range map[string]error{"unknown email": unknown, "email too long": tooLong, "password too long": hugePassword} {
		if sparekey.ErrorCode(err) != sparekey.ErrorCode(wrong) || sparekey.ErrorMessage(err) != sparekey.ErrorMessage(wrong) {
			t.Errorf("%s: %q %q; a wrong password: %q %q", name, sparekey.ErrorCode(err), err, sparekey.ErrorCode(wrong), wrong)
		}
	}
	wantCode(t, "a wrong password", wrong, sparekey.EUNAUTHORIZED)

	failed := b.db.AuditOf(t, "staff.sign_in_failed")
	if len(failed) != 2 {
		t.Fatalf("sign_in_failed = %+v, want 2", failed)
	}
	if failed[0].Subject != fmt.Sprintf("staff:%d", mia.ID) || failed[1].Subject != "staff:unknown" {
		t.Errorf("subjects = %q, %q", failed[0].Subject, failed[1].Subject)
	}
	for _, e := range failed {
		if e.Actor != "anonymous" || e.IP != visit.IP || e.UserAgent != visit.UserAgent {
			t.Errorf("audit = %+v", e)
		}
	}
	if st := b.staff(t, mia.ID); st.FailedLogins != 1 {
		t.Errorf("FailedLogins = %d, want 1", st.FailedLogins)
	}
	if got := b.db.AuditOf(t, "staff.signed_in"); len(got) != 0 {
		t.Errorf("signed_in = %+v", got)
	}

	// The right password clears the count.
	b.signIn(t, "mia@example.com", password)
	if st := b.staff(t, mia.ID); st.FailedLogins != 0 || st.LockedUntil != nil {
		t.Errorf("after signing in: %+v", st)
	}
}

// MaxFailedLogins wrong passwords in a row lock the account for
// LockoutFor: even the right password is refused meanwhile.
func TestLockout(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *staff.Config) { c.MaxFailedLogins, c.LockoutFor = 3, 15*time.Minute })
	mia := b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)

	for i := range 3 {
		b.clock.Advance(time.Minute)
		_, _, err := b.svc.SignIn(b.ctx, "mia@example.com", fmt.Sprintf("guess %d", i), visit)
		wantCode(t, fmt.Sprintf("wrong password %d", i+1), err, sparekey.EUNAUTHORIZED)
	}
	lockedAt := b.clock.Now()
	st := b.staff(t, mia.ID)
	if st.LockedUntil == nil || !st.LockedUntil.Equal(lockedAt.Add(15*time.Minute)) {
		t.Fatalf("LockedUntil = %v, want %v", st.LockedUntil, lockedAt.Add(15*time.Minute))
	}

	_, _, right := b.svc.SignIn(b.ctx, "mia@example.com", password, visit)
	wantCode(t, "the right password while locked", right, sparekey.EUNAUTHORIZED)
	if msg := sparekey.ErrorMessage(right); !strings.Contains(msg, "15 minutes") {
		t.Errorf("message %q does not say sign-in pauses", msg)
	}
	// A locked account answers like a wrong password, and like no account.
	_, _, wrong := b.svc.SignIn(b.ctx, "mia@example.com", "guess 4", visit)
	_, _, nobody := b.svc.SignIn(b.ctx, "nobody@example.com", "guess 4", visit)
	if sparekey.ErrorCode(wrong) != sparekey.EUNAUTHORIZED || sparekey.ErrorMessage(wrong) != sparekey.ErrorMessage(right) ||
		sparekey.ErrorMessage(nobody) != sparekey.ErrorMessage(right) {
		t.Errorf("while locked, a wrong password = %v, the right one = %v: they must look alike", wrong, right)
	}
	if got := b.staff(t, mia.ID); !got.LockedUntil.Equal(*st.LockedUntil) {
		t.Errorf("tries while locked moved LockedUntil to %v", got.LockedUntil)
	}
	if got := b.db.AuditOf(t, "staff.sign_in_refused"); len(got) != 2 || got[0].Subject != fmt.Sprintf("staff:%d", mia.ID) {
		t.Errorf("sign_in_refused = %+v", got)
	}

	b.clock.Advance(15*time.Minute - time.Second)
	_, _, err := b.svc.SignIn(b.ctx, "mia@example.com", password, visit)
	wantCode(t, "a second before the lock ends", err, sparekey.EUNAUTHORIZED)
	b.clock.Advance(time.Second)
	token, _ := b.signIn(t, "mia@example.com", password)
	if _, err := b.svc.Session(b.ctx, token); err != nil {
		t.Fatal(err)
	}
	if st := b.staff(t, mia.ID); st.FailedLogins != 0 || st.LockedUntil != nil {
		t.Errorf("after the lock: %+v", st)
	}
	if got := len(b.db.AuditOf(t, "staff.sign_in_failed")); got != 4 { // Mia's three, and nobody's
		t.Errorf("%d sign_in_failed lines, want 4", got)
	}
}

// Guesses sent at once cannot outrun the lock: once MaxFailedLogins were
// counted, the rest are refused, not checked.
func TestConcurrentGuessesCannotOutrunTheLockout(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *staff.Config) { c.MaxFailedLogins = 3 })
	mia := b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)

	const guesses = 9
	codes := make([]string, guesses)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			<-start
			_, _, err := b.svc.SignIn(b.ctx, "mia@example.com", fmt.Sprintf("guess %d", i), visit)
			codes[i] = sparekey.ErrorCode(err)
		})
	}
	close(start)
	wg.Wait()
	for _, c := range codes {
		if c != sparekey.EUNAUTHORIZED {
			t.Errorf("a guess got %q", c)
		}
	}
	if got := len(b.db.AuditOf(t, "staff.sign_in_refused")); got != guesses-3 {
		t.Errorf("%d guesses refused unchecked, want %d", got, guesses-3)
	}
	if got := len(b.db.AuditOf(t, "staff.sign_in_failed")); got != 3 {
		t.Errorf("%d sign_in_failed lines, want 3", got)
	}
	if st := b.staff(t, mia.ID); st.LockedUntil == nil {
		t.Errorf("the account is not locked: %+v", st)
	}
}

// Session tokens are stored only as keyed hashes and never reach the
// audit trail; nor do passwords.
func TestTokensStayOutOfTheRecords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.svc.Add(b.ctx, staff.NewAccount{Email: "mia@example.com", Role: sparekey.RoleMaintenance, Password: password}); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for range 2 {
		token, _ := b.signIn(t, "mia@example.com", password)
		tokens = append(tokens, token)
	}
	b.svc.SignIn(b.ctx, "mia@example.com", "wrong password", visit)
	if err := b.svc.SignOut(b.ctx, tokens[1], visit); err != nil {
		t.Fatal(err)
	}
	for _, e := range b.db.Audit(t) {
		line := fmt.Sprintf("%+v %v", *e, e.Detail)
		for _, secret := range append(tokens, password, "wrong password") {
			if strings.Contains(line, secret) {
				t.Errorf("audit line holds a secret: %s", line)
			}
		}
	}
	dump := pgtest.Dump(t, b.db.DSN)
	for _, secret := range append(tokens, password, "wrong password") {
		if strings.Contains(dump, secret) {
			t.Errorf("the database holds %q", secret)
		}
	}
}
