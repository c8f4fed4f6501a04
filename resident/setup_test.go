package resident_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/resident"
	"sparekey/sim"
)

// What the tests' requests carry (the demo's residents and locks are
// testkit's).
const (
	baseURL = "https://sparekey.test"
	testIP  = "203.0.113.7"
	testUA  = "Mozilla/5.0 (resident test)"
)

var visit = resident.Visit{IP: testIP, UserAgent: testUA}

// testBundle is the resident app on a real store seeded with the demo,
// whose locks are virtual locks programmed by the access service and
// reporting back to it, on a clock that moves only when told. Doors
// records remote lock and unlock calls instead of driving the locks.
type testBundle struct {
	ctx    context.Context
	db     *testkit.DB
	keys   sparekey.Keyring
	clock  *sparekey.OffsetClock
	fleet  *sim.Fleet
	access *access.Service
	doors  *fakeDoors
	cfg    resident.Config
	svc    *resident.Service
	queued *atomic.Int64       // calls of Config.Queued
	logs   *testkit.SyncBuffer // everything the resident service logged
}

// setup seeds the demo roster, gives every demo lock a virtual lock and
// lets the reconciler program it. opts adjust the config before the
// service is made.
func setup(t testing.TB, opts ...func(*resident.Config)) *testBundle {
	t.Helper()
	// A deadline turns a stuck store into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	db := testkit.OpenDB(t)
	keys := db.Keys
	clock := sparekey.NewFixedClock(testkit.T0)
	fleet, acc := testkit.Demo(t, db, clock, access.Config{})
	if _, err := acc.Reconciler.RunOnce(ctx); err != nil {
		t.Fatalf("access RunOnce: %v", err)
	}
	b := &testBundle{ctx: ctx, db: db, keys: keys, clock: clock, fleet: fleet, access: acc,
		doors: &fakeDoors{}, queued: &atomic.Int64{}, logs: &testkit.SyncBuffer{}}
	b.cfg = resident.Config{
		Store:   db,
		Keys:    keys,
		Clock:   clock,
		Logger:  slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Doors:   b.doors,
		BaseURL: baseURL + "/", // the service trims the slash
		Queued:  func() { b.queued.Add(1) },
	}
	for _, o := range opts {
		o(&b.cfg)
	}
	b.svc = resident.New(b.cfg)
	return b
}

// fakeDoors is an Operator that records its calls.
type fakeDoors struct {
	mu    sync.Mutex
	calls []string
	err   error // returned by every call
}

func (d *fakeDoors) Operate(_ context.Context, device string, unlock bool, actor string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("%s unlock=%t by %s", device, unlock, actor))
	return d.err
}

func (d *fakeDoors) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// moveOut marks the resident moved out now.
func (b *testBundle) moveOut(t testing.TB, email string) {
	t.Helper()
	r := b.db.Resident(t, email)
	now := b.clock.Now()
	r.MovedOutAt = &now
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.UpdateResident(b.ctx, r) })
}

// handleEvent reports ev as the lock's hub would.
func (b *testBundle) handleEvent(t testing.TB, ev sparekey.DeviceEvent) {
	t.Helper()
	if ev.At.IsZero() {
		ev.At = b.clock.Now()
	}
	if err := b.access.Recorder.HandleEvent(b.ctx, ev); err != nil {
		t.Fatalf("HandleEvent(%+v): %v", ev, err)
	}
}

// messages returns every message in the outbox of the kind, oldest first.
func (b *testBundle) messages(t testing.TB, kind string) []*sparekey.Message {
	t.Helper()
	var ms []*sparekey.Message
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		ms, err = tx.Messages(b.ctx, "", 0)
		return err
	})
	slices.Reverse(ms)
	var out []*sparekey.Message
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// sent summarizes the sign-in messages as "channel:recipient", oldest first.
func (b *testBundle) sent(t testing.TB) []string {
	t.Helper()
	out := []string{}
	for _, m := range b.messages(t, "sign_in") {
		out = append(out, string(m.Channel)+":"+m.To)
	}
	return out
}

// outcomes lists the outcomes of the sign-in requests, oldest first.
func (b *testBundle) outcomes(t testing.TB) []string {
	t.Helper()
	out := []string{}
	for _, e := range b.db.AuditOf(t, "resident.sign_in_requested") {
		out = append(out, e.Detail["outcome"])
	}
	return out
}

// auditText is the whole audit trail as text, every field of every line.
func (b *testBundle) auditText(t testing.TB) string {
	t.Helper()
	var sb strings.Builder
	for _, e := range b.db.Audit(t) {
		fmt.Fprintf(&sb, "%+v\n", *e)
	}
	return sb.String()
}

// signIn is what one sign-in request sent: the code and the link's token,
// the same in the SMS and the email.
type signIn struct {
	handle, code, token string
}

var (
	codePattern = regexp.MustCompile(`code(?::| is) (\d{6})\b`)
	linkPattern = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/app/sign-in/link/([A-Za-z0-9_-]+)`)
)

// request asks to sign in with typed and fails the test unless a handle
// comes back.
func (b *testBundle) request(t testing.TB, typed string) string {
	t.Helper()
	handle, err := b.svc.RequestSignIn(b.ctx, typed, visit)
	if err != nil {
		t.Fatalf("RequestSignIn(%q) = %v", typed, err)
	}
	b.run(t)
	if len(handle) < 22 { // 128 bits in base64
		t.Fatalf("RequestSignIn(%q) gave the handle %q", typed, handle)
	}
	return handle
}

// requestSent asks to sign in with typed and returns what the newest two
// messages (an SMS to phone and an email to email) carry, after checking
// both carry the same code and link.
func (b *testBundle) requestSent(t testing.TB, typed, phone, email string) signIn {
	t.Helper()
	before := len(b.messages(t, "sign_in"))
	s := signIn{handle: b.request(t, typed)}
	ms := b.messages(t, "sign_in")
	if len(ms) != before+2 {
		t.Fatalf("RequestSignIn(%q) queued %d sign-in messages, want 2", typed, len(ms)-before)
	}
	sms, mail := ms[before], ms[before+1]
	if sms.Channel != sparekey.ChannelSMS || sms.To != phone || mail.Channel != sparekey.ChannelEmail || mail.To != email {
		t.Fatalf("sent %s:%s and %s:%s, want sms:%s and email:%s", sms.Channel, sms.To, mail.Channel, mail.To, phone, email)
	}
	for i, m := range []*sparekey.Message{sms, mail} {
		code := codePattern.FindStringSubmatch(m.Body)
		link := linkPattern.FindStringSubmatch(m.Body)
		if code == nil || link == nil {
			t.Fatalf("no code or link in the %s:\n%s", m.Channel, m.Body)
		}
		if i == 0 {
			s.code, s.token = code[1], link[1]
		} else if code[1] != s.code || link[1] != s.token {
			t.Fatalf("the SMS and the email differ: code %s/%s, token %s/%s", s.code, code[1], s.token, link[1])
		}
		if m.Status != sparekey.MessageQueued {
			t.Errorf("%s is %s, want queued", m.Channel, m.Status)
		}
	}
	if !strings.Contains(mail.Subject, s.code) {
		t.Errorf("email subject %q lacks the code", mail.Subject)
	}
	return s
}

// requestAna asks to sign in with Ana's email and returns what was sent.
func (b *testBundle) requestAna(t testing.TB) signIn {
	t.Helper()
	return b.requestSent(t, testkit.AnaEmail, testkit.AnaPhone, testkit.AnaEmail)
}

// signInByHandle returns the stored sign-in of a handle.
func (b *testBundle) signInByHandle(t testing.TB, handle string) *sparekey.SignIn {
	t.Helper()
	var in *sparekey.SignIn
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		in, err = tx.SignInByHandleHash(b.ctx, b.keys.Hash(sparekey.HashSignInHandle, handle))
		return err
	})
	return in
}

// session signs in with the code and returns the session's token.
func (b *testBundle) session(t testing.TB, s signIn) string {
	t.Helper()
	token, err := b.svc.SignInWithCode(b.ctx, s.handle, s.code, visit)
	if err != nil {
		t.Fatalf("SignInWithCode: %v", err)
	}
	if len(token) < 22 {
		t.Fatalf("SignInWithCode gave the token %q", token)
	}
	return token
}

// wrongCode returns a six-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

var (
	wantCode = testkit.WantCode
	sameList = testkit.SameList
)

// dump is every stored value of every table, as text.
func (b *testBundle) dump(t testing.TB) string {
	t.Helper()
	return pgtest.Dump(t, b.db.DSN)
}

// run answers the pending sign-in requests, as the background job does.
func (b *testBundle) run(t testing.TB) int {
	t.Helper()
	n, err := b.svc.RunOnce(b.ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}
