package lockout_test

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/lockout"
	"sparekey/roster"
	"sparekey/sim"
)

// What the tests' requests carry (the demo's residents and locks are
// testkit's).
const (
	baseURL = "https://sparekey.test"
	testIP  = "203.0.113.7"
	testUA  = "Mozilla/5.0 (lockout test)"
	lease   = time.Minute
)

// testBundle is a lockout service on a real SQLite store, with the access
// service as its issuer driving a simulated fleet that reports back to it,
// on a clock that moves only when told.
type testBundle struct {
	ctx    context.Context
	db     *testkit.DB
	keys   sparekey.Keyring
	clock  *sparekey.OffsetClock
	fleet  *sim.Fleet
	access *access.Service
	cfg    lockout.Config
	svc    *lockout.Service
	queued *atomic.Int64       // calls of Config.Queued
	logs   *testkit.SyncBuffer // everything the lockout service logged
}

// setup seeds the demo roster, gives every demo lock a virtual lock, and
// lets the reconciler program the locks, so the backup pools hold codes the
// locks confirmed. opts adjust the lockout config before the service is made.
func setup(t testing.TB, opts ...func(*lockout.Config)) *testBundle {
	t.Helper()
	// A deadline turns a stuck store (e.g. a transaction that was never
	// ended) into a failure instead of a hung test binary.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	db := testkit.OpenDB(t)
	keys := db.Keys
	clock := sparekey.NewFixedClock(testkit.T0)
	fleet, acc := testkit.Demo(t, db, clock, access.Config{PoolSize: 3})
	b := &testBundle{ctx: ctx, db: db, keys: keys, clock: clock, fleet: fleet, access: acc,
		queued: &atomic.Int64{}, logs: &testkit.SyncBuffer{}}
	b.sync(t)
	b.cfg = lockout.Config{
		Store:   db,
		Keys:    keys,
		Clock:   clock,
		Issuer:  acc.Codes,
		Logger:  slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Queued:  func() { b.queued.Add(1) },
		BaseURL: baseURL,
		IPLimit: 10,
		Lease:   lease,
	}
	for _, o := range opts {
		o(&b.cfg)
	}
	b.svc = lockout.New(b.cfg)
	return b
}

// sync makes one reconcile pass: pending slots are programmed on the locks
// of the fleet and marked synced.
func (b *testBundle) sync(t testing.TB) {
	t.Helper()
	if _, err := b.access.Reconciler.RunOnce(b.ctx); err != nil {
		t.Fatalf("access RunOnce: %v", err)
	}
}

// addResident adds a resident with a new lock of its own, as a roster import
// would, and programs the lock.
func (b *testBundle) addResident(t *testing.T, e roster.Entry) *sparekey.Resident {
	t.Helper()
	if e.Property == "" {
		e.Property = roster.Demo[0].Property
	}
	if err := roster.Add(b.ctx, b.db, b.access.Codes, b.clock, []roster.Entry{e}); err != nil {
		t.Fatalf("roster.Add(%+v): %v", e, err)
	}
	b.fleet.Add(e.Lock, roster.DefaultSlotCount)
	b.sync(t)
	return b.db.Resident(t, e.Email)
}

// request asks for a code from testIP and fails the test unless the answer
// is the one every well-formed request gets.
func (b *testBundle) request(t *testing.T, contact string) {
	t.Helper()
	if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: contact, IP: testIP, UserAgent: testUA}); err != nil {
		t.Fatalf("RequestCode(%q) = %v, want nil", contact, err)
	}
}

// run answers the pending requests and returns how many it took.
func (b *testBundle) run(t *testing.T) int {
	t.Helper()
	n, err := b.svc.RunOnce(b.ctx)
	if err != nil {
		t.Fatalf("lockout RunOnce: %v", err)
	}
	return n
}

// requestLink requests a code for contact, answers it, and returns the
// token of the link sent to the account's email.
func (b *testBundle) requestLink(t *testing.T, contact, email string) string {
	t.Helper()
	b.request(t, contact)
	if n := b.run(t); n != 1 {
		t.Fatalf("RunOnce answered %d requests, want 1", n)
	}
	return b.token(t, email)
}

// advance moves the clock forward by d.
func (b *testBundle) advance(d time.Duration) { b.clock.Advance(d) }

// at moves the clock forward to when.
func (b *testBundle) at(t *testing.T, when time.Time) {
	t.Helper()
	d := when.Sub(b.clock.Now())
	if d < 0 {
		t.Fatalf("clock cannot go back from %v to %v", b.clock.Now(), when)
	}
	b.clock.Advance(d)
}

// sent summarizes messages of a kind as "channel:recipient", oldest first.
func sent(ms []*sparekey.Message, kind string) []string {
	out := []string{}
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, string(m.Channel)+":"+m.To)
		}
	}
	return out
}

var linkPattern = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/b/([A-Za-z0-9_-]+)`)

// token returns the token of the newest backup link message sent by email
// to the address, after checking the SMS of the same link carries it too.
func (b *testBundle) token(t *testing.T, email string) string {
	t.Helper()
	ms := b.db.Messages(t)
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if m.Kind != "backup_link" || m.Channel != sparekey.ChannelEmail || m.To != email {
			continue
		}
		found := linkPattern.FindStringSubmatch(m.Body)
		if found == nil {
			t.Fatalf("no link in the email body:\n%s", m.Body)
		}
		return found[1]
	}
	t.Fatalf("no backup link email to %s among %v", email, sent(ms, "backup_link"))
	return ""
}

// outcomes lists the outcomes of the answered requests, oldest first.
func (b *testBundle) outcomes(t *testing.T) []string {
	t.Helper()
	out := []string{}
	for _, e := range b.db.AuditOf(t, "backup.requested") {
		out = append(out, e.Detail["outcome"])
	}
	return out
}

// link returns the stored link for token.
func (b *testBundle) link(t *testing.T, token string) *sparekey.BackupLink {
	t.Helper()
	var l *sparekey.BackupLink
	b.db.MustRead(t, func(tx sparekey.Tx) (err error) {
		l, err = tx.BackupLinkByTokenHash(b.ctx, b.keys.Hash(sparekey.HashLinkToken, token))
		return err
	})
	return l
}

// reveal reveals the link and returns its only code, failing the test
// unless the link reveals exactly one.
func (b *testBundle) reveal(t *testing.T, token string) lockout.BackupCode {
	t.Helper()
	rev, err := b.svc.RevealLink(b.ctx, token, visit)
	if err != nil {
		t.Fatalf("RevealLink: %v", err)
	}
	if len(rev.Codes) != 1 {
		t.Fatalf("RevealLink gave %d codes, want 1: %+v", len(rev.Codes), rev.Codes)
	}
	return rev.Codes[0]
}

// fileBytes returns the SQLite database file and its write-ahead log.
func (b *testBundle) fileBytes(t *testing.T) []byte {
	t.Helper()
	if pgtest.OnPostgres() {
		return []byte(pgtest.Dump(t, b.db.DSN)) // no files: every stored value
	}
	var all []byte
	for _, p := range []string{b.db.DSN, b.db.DSN + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

var (
	wantCode = testkit.WantCode
	sameList = testkit.SameList
)
