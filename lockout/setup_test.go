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
	"sparekey/secret"
	"sparekey/sim"
	"sparekey/store"
)

// t0 is when every test starts; the clock stands still until a test moves it.
var t0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// The demo's residents and locks (roster.Demo).
const (
	ana       = "ana@example.com"
	anaPhone  = "+12015550101"
	ben       = "ben@example.com"
	benPhone  = "+12015550102"
	chen      = "chen@example.com"
	chenPhone = "+12015550103"
	ana101    = "unit-101-front"

	// strangerPhone is a valid US number that is nobody's.
	strangerPhone = "+12015550177"

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
	path   string // the SQLite file
	db     *store.DB
	keys   sparekey.Keyring
	clock  *sparekey.OffsetClock
	fleet  *sim.Fleet
	access *access.Service
	cfg    lockout.Config
	svc    *lockout.Service
	queued *atomic.Int64 // calls of Config.Queued
	logs   *syncBuffer   // everything the lockout service logged
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
	path := pgtest.DSN(t)
	keys := secret.ForTest()
	db, err := store.Open(ctx, path, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := sparekey.NewFixedClock(t0)
	fleet := sim.New(clock)
	acc := access.New(access.Config{Store: db, Driver: fleet, Clock: clock, PoolSize: 3})
	b := &testBundle{ctx: ctx, path: path, db: db, keys: keys, clock: clock, fleet: fleet, access: acc,
		queued: &atomic.Int64{}, logs: &syncBuffer{}}
	fleet.Subscribe(func(ev sparekey.DeviceEvent) {
		if err := acc.HandleEvent(ctx, ev); err != nil {
			t.Errorf("HandleEvent(%+v): %v", ev, err)
		}
	})
	if seeded, err := roster.SeedDemo(ctx, db, acc, clock); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	for _, e := range roster.Demo {
		fleet.Add(e.Lock, roster.DefaultSlotCount)
	}
	b.sync(t)
	b.cfg = lockout.Config{
		Store:   db,
		Keys:    keys,
		Clock:   clock,
		Issuer:  acc,
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
	if _, err := b.access.RunOnce(b.ctx); err != nil {
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
	if err := roster.Add(b.ctx, b.db, b.access, b.clock, []roster.Entry{e}); err != nil {
		t.Fatalf("roster.Add(%+v): %v", e, err)
	}
	b.fleet.Add(e.Lock, roster.DefaultSlotCount)
	b.sync(t)
	return b.resident(t, e.Email)
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

// read runs fn in a read transaction, failing the test on error.
func (b *testBundle) read(t *testing.T, fn func(tx sparekey.Tx) error) {
	t.Helper()
	if err := b.db.Read(b.ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// write runs fn in a committed transaction, failing the test on error.
func (b *testBundle) write(t *testing.T, fn func(tx sparekey.Tx) error) {
	t.Helper()
	if err := b.db.Tx(b.ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// messages returns every message in the outbox, oldest first.
func (b *testBundle) messages(t *testing.T) []*sparekey.Message {
	t.Helper()
	var ms []*sparekey.Message
	b.read(t, func(tx sparekey.Tx) (err error) {
		ms, err = tx.Messages(b.ctx, "", 0)
		return err
	})
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
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
	ms := b.messages(t)
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

// audit returns the audit trail, oldest first.
func (b *testBundle) audit(t *testing.T) []*sparekey.AuditEvent {
	t.Helper()
	var evs []*sparekey.AuditEvent
	b.read(t, func(tx sparekey.Tx) (err error) {
		evs, err = tx.AuditEvents(b.ctx, 0)
		return err
	})
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// events returns the audit events with the action, oldest first.
func (b *testBundle) events(t *testing.T, action string) []*sparekey.AuditEvent {
	t.Helper()
	var out []*sparekey.AuditEvent
	for _, e := range b.audit(t) {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// outcomes lists the outcomes of the answered requests, oldest first.
func (b *testBundle) outcomes(t *testing.T) []string {
	t.Helper()
	out := []string{}
	for _, e := range b.events(t, "backup.requested") {
		out = append(out, e.Detail["outcome"])
	}
	return out
}

// resident finds a resident by email, active or not.
func (b *testBundle) resident(t *testing.T, email string) *sparekey.Resident {
	t.Helper()
	var r *sparekey.Resident
	b.read(t, func(tx sparekey.Tx) (err error) {
		r, err = tx.ResidentByEmail(b.ctx, email)
		return err
	})
	return r
}

// slots returns the slots of the lock with the device name.
func (b *testBundle) slots(t *testing.T, device string) []*sparekey.Slot {
	t.Helper()
	var slots []*sparekey.Slot
	b.read(t, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(b.ctx, device)
		if err != nil {
			return err
		}
		slots, err = tx.SlotsByLock(b.ctx, lock.ID)
		return err
	})
	return slots
}

// link returns the stored link for token.
func (b *testBundle) link(t *testing.T, token string) *sparekey.BackupLink {
	t.Helper()
	var l *sparekey.BackupLink
	b.read(t, func(tx sparekey.Tx) (err error) {
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
		return []byte(pgtest.Dump(t, b.path)) // no files: every stored value
	}
	var all []byte
	for _, p := range []string{b.path, b.path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := sparekey.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q, want %q (err: %v)", what, got, code, err)
	}
}

var sameList = testkit.SameList

// syncBuffer is testkit.SyncBuffer, named as the tests call it.
type syncBuffer = testkit.SyncBuffer
