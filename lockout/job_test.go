package lockout_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/lockout"
	"sparekey/store"
)

// Rule 13: every answered request is audited with the hashed contact, the
// IP, the user agent and the outcome, at the time it was made; every message
// queued is audited too.
func TestRequestIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, "ANA@EXAMPLE.COM")
	longUA := strings.Repeat("x", 1000)
	if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: "(201) 555-0177", IP: "198.51.100.9", UserAgent: longUA}); err != nil {
		t.Fatal(err)
	}
	b.advance(3 * time.Minute) // the job runs late; the audit keeps the request's time
	b.run(t)

	evs := b.db.AuditOf(t, "backup.requested")
	if len(evs) != 2 {
		t.Fatalf("%d backup.requested events, want 2", len(evs))
	}
	r := b.db.Resident(t, testkit.AnaEmail)
	want := []struct {
		subject, ip, ua, kind, hash, outcome string
	}{
		{fmt.Sprintf("resident:%d", r.ID), testIP, testUA, "email", b.keys.Hash(sparekey.HashContact, testkit.AnaEmail), sparekey.OutcomeSent},
		{"request:", "198.51.100.9", longUA[:256], "phone", b.keys.Hash(sparekey.HashContact, testkit.StrangerPhone), sparekey.OutcomeNoMatch},
	}
	for i, e := range evs {
		w := want[i]
		if e.Actor != "anonymous" || !strings.HasPrefix(e.Subject, w.subject) || e.IP != w.ip || e.UserAgent != w.ua || !e.At.Equal(testkit.T0) {
			t.Errorf("event %d: %s %s %s at %v, IP %q, UA %.40q; want anonymous %s… at %v, IP %q, UA %.40q",
				i, e.Actor, e.Action, e.Subject, e.At, e.IP, e.UserAgent, w.subject, testkit.T0, w.ip, w.ua)
		}
		if e.Detail["outcome"] != w.outcome || e.Detail["contact_kind"] != w.kind {
			t.Errorf("event %d detail %v: want outcome %s, contact_kind %s", i, e.Detail, w.outcome, w.kind)
		}
		if h := e.Detail["contact_hash"]; h == "" || !strings.HasPrefix(w.hash, h) {
			t.Errorf("event %d contact_hash %q is not a prefix of the contact's keyed hash %s", i, h, w.hash)
		}
	}
	// The contact itself appears nowhere in the audit trail.
	for _, e := range b.db.Audit(t) {
		line := fmt.Sprintf("%+v %v", *e, e.Detail)
		for _, c := range []string{"ANA@EXAMPLE.COM", testkit.AnaEmail, "555-0177", testkit.StrangerPhone} {
			if strings.Contains(line, c) {
				t.Errorf("audit event %s holds the contact %q: %s", e.Action, c, line)
			}
		}
	}
	// One message.queued per message, naming it.
	queued := b.db.AuditOf(t, "message.queued")
	ms := b.db.Messages(t)
	if len(queued) != len(ms) || len(ms) != 2 {
		t.Fatalf("%d message.queued events for %d messages, want 2 of each", len(queued), len(ms))
	}
	for i, e := range queued {
		m := ms[i]
		if e.Detail["message"] != fmt.Sprint(m.ID) || e.Detail["channel"] != string(m.Channel) || e.Detail["kind"] != "backup_link" ||
			e.Subject != fmt.Sprintf("resident:%d", r.ID) {
			t.Errorf("message.queued %s %v does not describe message %d (%s to %s)", e.Subject, e.Detail, m.ID, m.Channel, m.To)
		}
		// Not worth sending once the link, 30 minutes from the request, expires.
		if want := testkit.T0.Add(sparekey.BackupLinkTTL); !m.ValidUntil.Equal(want) {
			t.Errorf("%s valid until %v, want %v", m.Channel, m.ValidUntil, want)
		}
	}
}

// The outbox is woken once per pass that queued messages, and only then.
func TestRunOnceWakesTheOutbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, "nobody@example.com")
	b.run(t)
	if n := b.queued.Load(); n != 0 {
		t.Errorf("Queued called %d times for a request that sent nothing", n)
	}
	b.request(t, testkit.AnaEmail)
	b.request(t, testkit.BenEmail)
	b.run(t)
	if n := b.queued.Load(); n != 1 {
		t.Errorf("Queued called %d times after a pass that queued messages, want 1", n)
	}
	if n := b.run(t); n != 0 || b.queued.Load() != 1 {
		t.Errorf("an idle pass answered %d requests and woke the outbox", n)
	}
}

// Rule 17: a request recorded by a process that died before the job ran is
// answered after a restart.
func TestRequestSurvivesARestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.AnaEmail)
	if err := b.db.Close(); err != nil { // the process dies
		t.Fatal(err)
	}

	db, err := store.Open(b.ctx, b.db.DSN, b.keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b.advance(10 * time.Second)
	cfg := b.cfg
	cfg.Store = db
	cfg.Issuer = access.New(access.Config{Store: db, Driver: b.fleet, Clock: b.clock, PoolSize: 3}).Codes
	svc := lockout.New(cfg)
	n, err := svc.RunOnce(b.ctx)
	if err != nil || n != 1 {
		t.Fatalf("RunOnce after a restart = %d, %v; want 1 request answered", n, err)
	}
	var ms []*sparekey.Message
	if err := db.Read(b.ctx, func(tx sparekey.Tx) (err error) {
		ms, err = tx.Messages(b.ctx, "", 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Errorf("%d messages after the restart, want the email and the SMS", len(ms))
	}
}

// Rule 17: the same, with a new Service on the same store (a restarted
// worker), as the brief of the job describes it.
func TestNewServiceAnswersAnUnprocessedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.AnaEmail)
	svc := lockout.New(b.cfg)
	if n, err := svc.RunOnce(b.ctx); err != nil || n != 1 {
		t.Fatalf("new service RunOnce = %d, %v; want 1", n, err)
	}
	sameList(t, "messages", sent(b.db.Messages(t), "backup_link"), []string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
	if n := b.run(t); n != 0 {
		t.Errorf("the old service answered the request again (%d)", n)
	}
}

// Rule 17: a request claimed by a worker that died is answered once the
// worker's lease ends, and not before.
func TestRequestOfADeadWorkerIsAnsweredAfterTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.request(t, testkit.AnaEmail)
	b.db.MustWrite(t, func(tx sparekey.Tx) error { // a worker claims the request and dies
		claimed, err := tx.ClaimBackupRequests(b.ctx, b.clock.Now(), lease, 20)
		if err == nil && len(claimed) != 1 {
			err = fmt.Errorf("claimed %d requests, want 1", len(claimed))
		}
		return err
	})
	if n := b.run(t); n != 0 {
		t.Fatalf("RunOnce took a request another worker holds (%d)", n)
	}
	b.advance(lease - time.Second)
	if n := b.run(t); n != 0 {
		t.Fatalf("RunOnce took a request a second before the lease ended (%d)", n)
	}
	if ms := b.db.Messages(t); len(ms) != 0 {
		t.Fatalf("messages queued before the lease ended: %v", sent(ms, "backup_link"))
	}
	b.advance(time.Second)
	if n := b.run(t); n != 1 {
		t.Fatalf("RunOnce answered %d requests once the lease ended, want 1", n)
	}
	sameList(t, "messages", sent(b.db.Messages(t), "backup_link"), []string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
	// The link still runs from the request, not from the late answer.
	if l := b.link(t, b.token(t, testkit.AnaEmail)); !l.ExpiresAt.Equal(testkit.T0.Add(sparekey.BackupLinkTTL)) {
		t.Errorf("link expires at %v, want %v", l.ExpiresAt, testkit.T0.Add(sparekey.BackupLinkTTL))
	}
}

// flakyIssuer fails for one resident while broken is set.
type flakyIssuer struct {
	lockout.CodeIssuer
	email  string
	broken atomic.Bool
}

func (f *flakyIssuer) IssueBackupCode(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, l *sparekey.Lock) (*sparekey.Slot, error) {
	if f.broken.Load() && r.Email == f.email {
		return nil, errors.New("backup pool broken")
	}
	return f.CodeIssuer.IssueBackupCode(ctx, tx, r, l)
}

func setupFlaky(t *testing.T, email string) (*testBundle, *flakyIssuer) {
	t.Helper()
	var flaky *flakyIssuer
	b := setup(t, func(c *lockout.Config) {
		flaky = &flakyIssuer{CodeIssuer: c.Issuer, email: email}
		flaky.broken.Store(true)
		c.Issuer = flaky
	})
	return b, flaky
}

// Rule 17: a request the job fails to answer writes nothing, keeps its place
// and is answered by a later pass once its lease ends.
func TestFailedAnswerWritesNothingAndIsRetried(t *testing.T) {
	t.Parallel()
	b, flaky := setupFlaky(t, testkit.BenEmail)
	b.request(t, testkit.BenEmail)
	if n, err := b.svc.RunOnce(b.ctx); err == nil || n != 1 {
		t.Fatalf("RunOnce with a broken issuer = %d, %v; want 1 claimed and an error", n, err)
	}
	if ms := b.db.Messages(t); len(ms) != 0 {
		t.Errorf("a failed answer queued %v", sent(ms, "backup_link"))
	}
	if evs := b.db.AuditOf(t, "backup.requested"); len(evs) != 0 {
		t.Errorf("a failed answer was audited as %v", evs[0].Detail)
	}
	benID := b.db.Resident(t, testkit.BenEmail).ID
	b.db.MustRead(t, func(tx sparekey.Tx) error {
		n, err := tx.CountBackupLinksSince(b.ctx, benID, testkit.T0.Add(-time.Hour))
		if err == nil && n != 0 {
			t.Errorf("a failed answer left %d links", n)
		}
		return err
	})
	flaky.broken.Store(false)
	if n := b.run(t); n != 0 {
		t.Fatalf("RunOnce retried the request before its lease ended (%d)", n)
	}
	b.advance(lease)
	if n := b.run(t); n != 1 {
		t.Fatalf("RunOnce answered %d requests after the lease, want 1", n)
	}
	sameList(t, "messages", sent(b.db.Messages(t), "backup_link"), []string{"email:" + testkit.BenEmail, "sms:" + testkit.BenPhone})
}

// When one request of a pass fails, the messages queued (and committed) for
// the requests before it must still wake the outbox.
func TestRunOnceWakesTheOutboxEvenWhenALaterRequestFails(t *testing.T) {
	t.Parallel()
	b, _ := setupFlaky(t, testkit.BenEmail)
	b.request(t, testkit.AnaEmail)
	b.request(t, testkit.BenEmail)
	if _, err := b.svc.RunOnce(b.ctx); err == nil {
		t.Fatal("RunOnce with a broken issuer did not fail")
	}
	sameList(t, "messages", sent(b.db.Messages(t), "backup_link"), []string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
	if n := b.queued.Load(); n != 1 {
		t.Errorf("Queued called %d times, want 1: Ana's messages were committed", n)
	}
}

// Two workers on one store answer every request exactly once.
func TestConcurrentWorkersAnswerEachRequestOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.IPLimit = 0 })
	contacts := []string{testkit.AnaEmail, testkit.BenEmail, testkit.ChenEmail, "nobody@example.com", testkit.StrangerPhone}
	const requests = 25
	for i := range requests {
		b.request(t, contacts[i%len(contacts)])
	}
	other := lockout.New(b.cfg)
	var wg sync.WaitGroup
	var answered atomic.Int64
	for _, svc := range []*lockout.Service{b.svc, other} {
		wg.Go(func() {
			for {
				n, err := svc.RunOnce(b.ctx)
				if err != nil {
					t.Errorf("RunOnce: %v", err)
					return
				}
				if n == 0 {
					return
				}
				answered.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if n := answered.Load(); n != requests {
		t.Errorf("workers answered %d requests, want %d", n, requests)
	}
	if evs := b.db.AuditOf(t, "backup.requested"); len(evs) != requests {
		t.Errorf("%d requests audited, want %d", len(evs), requests)
	}
}

// The job worker answers requests as they come, and Stop ends it.
func TestStartAnswersRequestsAndStopEndsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.PollInterval = 20 * time.Millisecond })
	b.svc.Start(b.ctx)
	b.svc.Start(b.ctx) // a second Start is a no-op
	waitFor := func(messages int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(b.db.Messages(t)) < messages {
			if time.Now().After(deadline) {
				t.Fatalf("the worker did not answer the request within 10 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.request(t, testkit.AnaEmail)
	waitFor(2)
	// The first pass is over now, so this one is answered by a later tick.
	b.request(t, testkit.ChenEmail)
	waitFor(4)
	b.svc.Stop()
	b.svc.Stop() // a second Stop is a no-op
	b.request(t, testkit.BenEmail)
	time.Sleep(50 * time.Millisecond)
	if n := b.run(t); n != 1 {
		t.Errorf("after Stop, RunOnce found %d pending requests, want the 1 the stopped worker left", n)
	}

	// Ending the context ends the worker too.
	ctx, cancel := context.WithCancel(b.ctx)
	b.svc.Start(ctx)
	cancel()
	done := make(chan struct{})
	go func() { b.svc.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return after the context ended")
	}
}

var errRollBack = errors.New("roll back")

// pending returns the requests no worker has answered, without claiming them.
func (b *testBundle) pending(t *testing.T) []*sparekey.BackupRequest {
	t.Helper()
	var rs []*sparekey.BackupRequest
	err := b.db.Tx(b.ctx, func(tx sparekey.Tx) (err error) {
		// Far in the future every lease has ended; the claim is rolled back.
		if rs, err = tx.ClaimBackupRequests(b.ctx, b.clock.Now().Add(24*time.Hour), time.Second, 0); err != nil {
			return err
		}
		return errRollBack
	})
	if !errors.Is(err, errRollBack) {
		t.Fatal(err)
	}
	return rs
}

// Rule 17: one request the job cannot answer must not hold up the requests
// behind it, let alone make them be given up.
func TestFailingRequestDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	b, _ := setupFlaky(t, testkit.BenEmail)
	b.request(t, testkit.BenEmail) // fails every time
	b.advance(time.Second)
	b.request(t, testkit.AnaEmail)
	b.svc.RunOnce(b.ctx)
	if got := sent(b.db.Messages(t), "backup_link"); len(got) == 0 {
		t.Errorf("Ana's request was not answered in the pass where Ben's failed")
	}
	for range 12 {
		b.advance(lease)
		b.svc.RunOnce(b.ctx)
	}
	sameList(t, "messages after Ben's request was given up", sent(b.db.Messages(t), "backup_link"),
		[]string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
	if got := b.outcomes(t); !strings.Contains(strings.Join(got, " "), sparekey.OutcomeSent) {
		t.Errorf("outcomes %q: Ana's request was never sent", got)
	}
}

// A request that keeps failing is given up after repeated attempts, not
// retried forever, and leaves a trace.
func TestRequestIsGivenUpAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	b, _ := setupFlaky(t, testkit.BenEmail)
	b.request(t, testkit.BenEmail)
	for range 10 {
		if _, err := b.svc.RunOnce(b.ctx); err == nil {
			t.Fatal("RunOnce with a broken issuer did not fail")
		}
		b.advance(lease)
	}
	if n := len(b.pending(t)); n != 1 {
		t.Fatalf("%d requests pending after 10 failed attempts, want 1", n)
	}
	if n := b.run(t); n != 1 {
		t.Fatalf("11th pass took %d requests, want 1", n)
	}
	if n := len(b.pending(t)); n != 0 {
		t.Errorf("request still pending after it was given up")
	}
	if !strings.Contains(b.logs.String(), "given up") {
		t.Errorf("giving up was not logged; log:\n%s", b.logs.String())
	}
}

// Rule 13: a given-up request is audited like every other, with its outcome.
func TestGivenUpRequestIsAudited(t *testing.T) {
	t.Parallel()
	b, _ := setupFlaky(t, testkit.BenEmail)
	b.request(t, testkit.BenEmail)
	for range 11 {
		b.svc.RunOnce(b.ctx)
		b.advance(lease)
	}
	sameList(t, "outcomes", b.outcomes(t), []string{"failed"})
}

// Rule 6: the per-IP limit holds under concurrent requests.
func TestIPLimitUnderConcurrentRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	var accepted, limited atomic.Int64
	for i := range 30 {
		wg.Go(func() {
			err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: fmt.Sprintf("someone%d@example.com", i), IP: testIP})
			switch sparekey.ErrorCode(err) {
			case "":
				accepted.Add(1)
			case sparekey.ERATELIMITED:
				limited.Add(1)
			default:
				t.Errorf("RequestCode: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 10 || limited.Load() != 20 {
		t.Errorf("%d accepted and %d rate limited, want 10 and 20", accepted.Load(), limited.Load())
	}
}

// Rule 2: a request never wakes the job. The job runs on its own jittered
// tick, so its database work does not line up with any one request.
func TestRequestDoesNotWakeTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.PollInterval = time.Hour })
	b.svc.Start(b.ctx)
	defer b.svc.Stop()
	time.Sleep(50 * time.Millisecond) // the first pass, at once, finds nothing
	b.request(t, testkit.AnaEmail)
	time.Sleep(200 * time.Millisecond)
	if ms := b.db.Messages(t); len(ms) != 0 {
		t.Fatalf("the request was answered at once (%d messages): RequestCode woke the job", len(ms))
	}
	b.svc.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.db.Messages(t)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("Wake did not make the job answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The hourly sweep deletes answered requests a day old (they hold the
// client's IP and the contact's hash); pending and younger ones stay, and
// so do the audit trail and the link a deleted request led to.
func TestSweepDeletesDayOldRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ask := func(contact, ip string) {
		t.Helper()
		if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: contact, IP: ip, UserAgent: testUA}); err != nil {
			t.Fatal(err)
		}
	}
	ask(testkit.AnaEmail, "192.0.2.1")
	ask("nobody@example.com", "192.0.2.2")
	if n := b.run(t); n != 2 {
		t.Fatalf("RunOnce answered %d requests, want 2", n)
	}
	token := b.token(t, testkit.AnaEmail)
	// Left pending: a worker that died holds it for two days.
	ask("nobody@example.com", "192.0.2.3")
	b.db.MustWrite(t, func(tx sparekey.Tx) error {
		_, err := tx.ClaimBackupRequests(b.ctx, b.clock.Now(), 48*time.Hour, 1)
		return err
	})
	b.advance(lockout.RequestKeep - time.Minute)
	ask("nobody@example.com", "192.0.2.4")
	if n := b.run(t); n != 1 {
		t.Fatalf("RunOnce answered %d requests, want the young one", n)
	}
	kept := func(when string, want map[string]int) {
		t.Helper()
		if err := b.svc.Sweep(b.ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		b.db.MustRead(t, func(tx sparekey.Tx) error {
			for ip := range want {
				n, err := tx.CountBackupRequestsByIP(b.ctx, ip, testkit.T0.Add(-time.Hour))
				if err != nil {
					return err
				}
				got[ip] = n
			}
			return nil
		})
		if !maps.Equal(got, want) {
			t.Errorf("%s: requests left by IP %v, want %v", when, got, want)
		}
	}
	kept("a minute short of a day", map[string]int{"192.0.2.1": 1, "192.0.2.2": 1, "192.0.2.3": 1, "192.0.2.4": 1})
	b.advance(2 * time.Minute)
	kept("a day after the first requests", map[string]int{"192.0.2.1": 0, "192.0.2.2": 0, "192.0.2.3": 1, "192.0.2.4": 1})
	if got := b.outcomes(t); len(got) != 3 {
		t.Errorf("audit trail after the sweep: outcomes %v, want the 3 answered requests", got)
	}
	if l := b.link(t, token); l.RequestID != 0 {
		t.Errorf("link of a deleted request still names request %d", l.RequestID)
	}
}
