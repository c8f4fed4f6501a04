package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sparekey/internal/testkit"
	"strings"
	"sync"
	"testing"
	"time"

	"sparekey"
)

// scriptTransport answers from a script: the i-th Send returns results[i],
// and nil once the script runs out. With block set, Send waits for it (or
// for its context) after announcing itself on entered.
type scriptTransport struct {
	mu      sync.Mutex
	results []error
	calls   []int64
	block   chan struct{}
	entered chan struct{}
}

func (tr *scriptTransport) Send(ctx context.Context, m *sparekey.Message) (string, error) {
	tr.mu.Lock()
	i := len(tr.calls)
	tr.calls = append(tr.calls, m.ID)
	var err error
	if i < len(tr.results) {
		err = tr.results[i]
	}
	tr.mu.Unlock()
	if tr.entered != nil {
		tr.entered <- struct{}{}
	}
	if tr.block != nil {
		select {
		case <-tr.block:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("p-%d", m.ID), nil
}

func (tr *scriptTransport) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.calls)
}

type testBundle struct {
	store *fakeStore
	clock *sparekey.OffsetClock
	tr    *scriptTransport
	logs  *testkit.SyncBuffer
}

func setup(t *testing.T, cfg WorkerConfig) (*Worker, *testBundle) {
	t.Helper()
	b := &testBundle{store: newFakeStore(), clock: sparekey.NewFixedClock(testkit.T0), tr: &scriptTransport{}, logs: &testkit.SyncBuffer{}}
	cfg.Store, cfg.Clock = b.store, b.clock
	cfg.Transports = map[sparekey.Channel]Transport{sparekey.ChannelSMS: b.tr}
	cfg.Logger = slog.New(slog.NewTextHandler(b.logs, nil))
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	}
	return NewWorker(cfg), b
}

func backupSMS() sparekey.Message {
	return sparekey.Message{
		Channel: sparekey.ChannelSMS,
		To:      "+12015550101",
		Subject: "secret subject SECRET-TOKEN",
		Body:    "Your link: https://sparekey.test/b/SECRET-TOKEN",
		Kind:    "backup_link",
	}
}

func runOnce(t *testing.T, w *Worker, want int) {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if n != want {
		t.Fatalf("RunOnce tried %d messages, want %d", n, want)
	}
}

func TestWorkerSendsQueuedMessageOnce(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{})
	id := b.store.add(backupSMS(), testkit.T0)
	// An email has no transport here: it stays queued, untouched.
	mail := backupSMS()
	mail.Channel, mail.To = sparekey.ChannelEmail, "ana@example.com"
	emailID := b.store.add(mail, testkit.T0)

	runOnce(t, w, 1)
	runOnce(t, w, 0)

	m := b.store.get(id)
	if m.Status != sparekey.MessageSent || m.ProviderID != "p-1" || m.SentAt == nil || !m.SentAt.Equal(testkit.T0) || m.Attempts != 1 {
		t.Errorf("message = %+v", m)
	}
	if b.tr.count() != 1 {
		t.Errorf("sent %d times", b.tr.count())
	}
	if got := b.store.get(emailID).Status; got != sparekey.MessageQueued {
		t.Errorf("email status = %s", got)
	}
	b.store.mu.Lock()
	ev := b.store.audit[0]
	b.store.mu.Unlock()
	if ev.Action != "message.sent" || ev.Subject != fmt.Sprintf("message:%d", id) || ev.Actor != "system" ||
		ev.Detail["channel"] != "sms" || ev.Detail["kind"] != "backup_link" || ev.Detail["attempt"] != "1" {
		t.Errorf("audit = %+v", ev)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "+1201***0101") {
		t.Errorf("log lacks the redacted recipient:\n%s", logs)
	}
	for _, secret := range []string{"SECRET-TOKEN", "+12015550101"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

func TestWorkerRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{})
	b.tr.results = []error{errors.New("503 from provider"), errors.New("503 again")}
	id := b.store.add(backupSMS(), testkit.T0)

	runOnce(t, w, 1)
	m := b.store.get(id)
	if m.Status != sparekey.MessageFailed || m.Attempts != 1 || !m.NextAttemptAt.Equal(testkit.T0.Add(time.Minute)) ||
		m.LastError != "503 from provider" {
		t.Fatalf("after 1st failure: %+v", m)
	}
	runOnce(t, w, 0) // not due yet
	b.clock.Advance(time.Minute)
	runOnce(t, w, 1)
	if m = b.store.get(id); m.Status != sparekey.MessageFailed || m.Attempts != 2 ||
		!m.NextAttemptAt.Equal(testkit.T0.Add(3*time.Minute)) {
		t.Fatalf("after 2nd failure: %+v", m)
	}
	b.clock.Advance(2*time.Minute - time.Second)
	runOnce(t, w, 0)
	b.clock.Advance(time.Second)
	runOnce(t, w, 1)
	if m = b.store.get(id); m.Status != sparekey.MessageSent || m.Attempts != 3 || m.LastError != "" {
		t.Fatalf("after retry: %+v", m)
	}
	if got := strings.Join(b.store.actions(), ","); got != "message.failed,message.failed,message.sent" {
		t.Errorf("audit = %s", got)
	}
}

func TestWorkerAbandonsPermanentFailureAtOnce(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{})
	// Providers echo the recipient; it must reach neither logs nor last_error.
	b.tr.results = []error{Permanent(errors.New("The 'To' number +12015550101 is not a valid phone number."))}
	id := b.store.add(backupSMS(), testkit.T0)

	runOnce(t, w, 1)
	m := b.store.get(id)
	if m.Status != sparekey.MessageAbandoned || m.Attempts != 1 ||
		m.LastError != "The 'To' number +1201***0101 is not a valid phone number." {
		t.Fatalf("message = %+v", m)
	}
	b.clock.Advance(24 * time.Hour)
	runOnce(t, w, 0)
	if got := strings.Join(b.store.actions(), ","); got != "message.abandoned" {
		t.Errorf("audit = %s", got)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "+12015550101") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestWorkerAbandonsAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{MaxAttempts: 3})
	fail := errors.New("timeout")
	b.tr.results = []error{fail, fail, fail, fail}
	id := b.store.add(backupSMS(), testkit.T0)

	for range 3 {
		runOnce(t, w, 1)
		b.clock.Advance(time.Hour)
	}
	runOnce(t, w, 0)
	if m := b.store.get(id); m.Status != sparekey.MessageAbandoned || m.Attempts != 3 {
		t.Fatalf("message = %+v", m)
	}
	if got := strings.Join(b.store.actions(), ","); got != "message.failed,message.failed,message.abandoned" {
		t.Errorf("audit = %s", got)
	}
}

func TestWorkerSkipsMessageLeasedByAnother(t *testing.T) {
	t.Parallel()
	a, b := setup(t, WorkerConfig{})
	b.tr.block, b.tr.entered = make(chan struct{}), make(chan struct{}, 1)
	id := b.store.add(backupSMS(), testkit.T0)

	other := &scriptTransport{}
	second := NewWorker(WorkerConfig{Store: b.store, Clock: b.clock,
		Transports: map[sparekey.Channel]Transport{sparekey.ChannelSMS: other}})

	done := make(chan error)
	go func() { _, err := a.RunOnce(context.Background()); done <- err }()
	<-b.tr.entered // worker a holds the lease and is sending

	runOnce(t, second, 0)
	close(b.tr.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runOnce(t, second, 0)
	if other.count() != 0 || b.tr.count() != 1 || b.store.get(id).Status != sparekey.MessageSent {
		t.Errorf("second sent %d, first sent %d, status %s", other.count(), b.tr.count(), b.store.get(id).Status)
	}
}

func TestWorkerResendsAfterCrash(t *testing.T) {
	t.Parallel()

	t.Run("claimed, never sent", func(t *testing.T) {
		t.Parallel()
		w, b := setup(t, WorkerConfig{Lease: time.Minute})
		id := b.store.add(backupSMS(), testkit.T0)
		// A worker that crashed right after its claim committed.
		err := b.store.Tx(context.Background(), func(tx sparekey.Tx) error {
			_, err := tx.ClaimMessages(context.Background(), []sparekey.Channel{sparekey.ChannelSMS}, testkit.T0, time.Minute, 10)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		runOnce(t, w, 0)
		b.clock.Advance(time.Minute)
		runOnce(t, w, 1)
		if b.store.get(id).Status != sparekey.MessageSent {
			t.Errorf("status = %s", b.store.get(id).Status)
		}
	})

	t.Run("sent, never recorded", func(t *testing.T) {
		t.Parallel()
		w, b := setup(t, WorkerConfig{Lease: time.Minute})
		id := b.store.add(backupSMS(), testkit.T0)
		b.store.failSave = true
		if _, err := w.RunOnce(context.Background()); err == nil {
			t.Fatal("RunOnce hid the failed record")
		}
		b.store.mu.Lock()
		b.store.failSave = false
		b.store.mu.Unlock()
		if got := b.store.actions(); len(got) != 0 {
			t.Fatalf("audit of a rolled-back record: %v", got)
		}
		runOnce(t, w, 0) // still leased
		b.clock.Advance(time.Minute)
		runOnce(t, w, 1)
		// At least once: twice is allowed, zero times never.
		if b.tr.count() != 2 || b.store.get(id).Status != sparekey.MessageSent {
			t.Errorf("sent %d times, status %s", b.tr.count(), b.store.get(id).Status)
		}
	})
}

// A pass claims no more than there are senders, and sends them all at
// once: no claimed message waits behind a slow one while its lease runs.
func TestWorkerSendsAChannelsMessagesInParallel(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{Senders: 2})
	b.tr.block, b.tr.entered = make(chan struct{}), make(chan struct{}, 2)
	first := b.store.add(backupSMS(), testkit.T0)
	second := b.store.add(backupSMS(), testkit.T0)
	third := b.store.add(backupSMS(), testkit.T0)

	done := make(chan error)
	go func() { _, err := w.RunOnce(context.Background()); done <- err }()
	<-b.tr.entered
	<-b.tr.entered // both sends under way together
	close(b.tr.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.store.get(first).Status != sparekey.MessageSent || b.store.get(second).Status != sparekey.MessageSent {
		t.Fatalf("statuses %s, %s", b.store.get(first).Status, b.store.get(second).Status)
	}
	b.tr.entered = nil
	runOnce(t, w, 1) // the third was never claimed, so it waited out no lease
	if b.store.get(third).Status != sparekey.MessageSent {
		t.Errorf("third status = %s", b.store.get(third).Status)
	}
}

// A sender that finishes takes the next message at once, while another
// is still stuck on its send.
func TestWorkerSlowSendDoesNotHoldTheNext(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{Senders: 2, PollInterval: time.Hour})
	stuck := b.store.add(backupSMS(), testkit.T0)
	release := make(chan struct{})
	w.lanes[0].transport = &stuckTransport{stuck: stuck, release: release, tr: b.tr}
	ids := []int64{b.store.add(backupSMS(), testkit.T0), b.store.add(backupSMS(), testkit.T0), b.store.add(backupSMS(), testkit.T0)}

	w.Start(context.Background())
	for _, id := range ids {
		waitFor(t, func() bool { return b.store.get(id).Status == sparekey.MessageSent })
	}
	if m := b.store.get(stuck); m.Status != sparekey.MessageQueued {
		t.Errorf("stuck message = %+v", m)
	}
	close(release)
	waitFor(t, func() bool { return b.store.get(stuck).Status == sparekey.MessageSent })
	w.Stop()
}

// stuckTransport holds one message until released and sends the others
// through tr.
type stuckTransport struct {
	stuck   int64
	release chan struct{}
	tr      Transport
}

func (s *stuckTransport) Send(ctx context.Context, m *sparekey.Message) (string, error) {
	if m.ID == s.stuck {
		select {
		case <-s.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return s.tr.Send(ctx, m)
}

// A message that keeps failing goes behind those queued before its next
// try, not back at the head of every batch.
func TestWorkerRetriesBehindFresherMessages(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{Senders: 1})
	b.tr.results = []error{errors.New("provider hangs")}
	stuck := b.store.add(backupSMS(), testkit.T0)
	runOnce(t, w, 1)
	fresh := b.store.add(backupSMS(), testkit.T0.Add(30*time.Second))
	b.clock.Advance(time.Minute) // both due: stuck since T0+1m, fresh since T0+30s
	runOnce(t, w, 1)
	if b.store.get(fresh).Status != sparekey.MessageSent || b.store.get(stuck).Attempts != 1 {
		t.Fatalf("fresh %s, stuck tried %d times", b.store.get(fresh).Status, b.store.get(stuck).Attempts)
	}
}

// The provider's Retry-After replaces the backoff.
func TestWorkerHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{})
	b.tr.results = []error{RetryAfter(errors.New("429 too many requests"), 30*time.Second)}
	id := b.store.add(backupSMS(), testkit.T0)
	runOnce(t, w, 1)
	if m := b.store.get(id); m.Status != sparekey.MessageFailed || !m.NextAttemptAt.Equal(testkit.T0.Add(30*time.Second)) {
		t.Fatalf("message = %+v, want a retry at +30s, not the backoff's +1m", m)
	}
	b.clock.Advance(29 * time.Second)
	runOnce(t, w, 0)
	b.clock.Advance(time.Second)
	runOnce(t, w, 1)
	if m := b.store.get(id); m.Status != sparekey.MessageSent {
		t.Errorf("status = %s", m.Status)
	}
}

// A message whose link ran out is never sent: not when it is first due,
// and not on a retry that would come too late.
func TestWorkerExpiresDeadMessages(t *testing.T) {
	t.Parallel()

	t.Run("expired before its first try", func(t *testing.T) {
		t.Parallel()
		w, b := setup(t, WorkerConfig{})
		m := backupSMS()
		m.ValidUntil = testkit.T0
		id := b.store.add(m, testkit.T0)
		runOnce(t, w, 1)
		if got := b.store.get(id); got.Status != sparekey.MessageExpired || got.Attempts != 0 || got.SentAt != nil {
			t.Fatalf("message = %+v", got)
		}
		if b.tr.count() != 0 {
			t.Errorf("sent %d times", b.tr.count())
		}
		b.clock.Advance(time.Hour)
		runOnce(t, w, 0) // final
		if got := strings.Join(b.store.actions(), ","); got != "message.expired" {
			t.Errorf("audit = %s", got)
		}
	})

	t.Run("its retry would come after the link", func(t *testing.T) {
		t.Parallel()
		w, b := setup(t, WorkerConfig{})
		b.tr.results = []error{errors.New("503"), RetryAfter(errors.New("429"), 10*time.Minute)}
		m := backupSMS()
		m.ValidUntil = testkit.T0.Add(5 * time.Minute)
		id := b.store.add(m, testkit.T0)
		runOnce(t, w, 1) // retried at +1m, within the link's life
		if got := b.store.get(id); got.Status != sparekey.MessageFailed {
			t.Fatalf("after the 1st try: %+v", got)
		}
		b.clock.Advance(time.Minute)
		runOnce(t, w, 1) // asked to wait past the link's end
		if got := b.store.get(id); got.Status != sparekey.MessageExpired || got.Attempts != 2 || got.LastError != "429" {
			t.Fatalf("after the 2nd try: %+v", got)
		}
		if got := strings.Join(b.store.actions(), ","); got != "message.failed,message.expired" {
			t.Errorf("audit = %s", got)
		}
	})
}

func TestWorkerStartStop(t *testing.T) {
	// Not parallel: it counts goroutines.
	before := runtime.NumGoroutine()
	w, b := setup(t, WorkerConfig{PollInterval: time.Hour})
	w.Start(context.Background())
	w.Start(context.Background()) // a second Start is a no-op
	waitFor(t, func() bool { return b.store.claimCount() >= 1 })

	start := time.Now()
	w.Stop() // while waiting on an hour-long poll interval
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	w.Stop() // idempotent
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func TestWorkerStopCutsSendShort(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{PollInterval: time.Hour})
	b.tr.block, b.tr.entered = make(chan struct{}), make(chan struct{}, 1)
	id := b.store.add(backupSMS(), testkit.T0)

	w.Start(context.Background())
	<-b.tr.entered
	w.Stop()
	// Not counted as an attempt: the lease expires and it goes out later.
	if m := b.store.get(id); m.Status != sparekey.MessageQueued || m.Attempts != 0 {
		t.Errorf("message = %+v", m)
	}
}

func TestWorkerNotifyWakesBeforePoll(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{PollInterval: time.Hour})
	w.Start(context.Background())
	t.Cleanup(w.Stop)
	waitFor(t, func() bool { return b.store.claimCount() >= 1 }) // first pass found nothing

	id := b.store.add(backupSMS(), testkit.T0)
	w.Notify()
	w.Notify() // never blocks, even with a wake-up pending
	waitFor(t, func() bool { return b.store.get(id).Status == sparekey.MessageSent })
}

func TestWorkerEndsWithContext(t *testing.T) {
	t.Parallel()
	w, b := setup(t, WorkerConfig{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	waitFor(t, func() bool { return b.store.claimCount() >= 1 })
	cancel()
	w.Stop() // returns once the loop has ended
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, 5 * time.Second}, {1, 5 * time.Second}, {2, 10 * time.Second}, {3, 20 * time.Second},
		{5, 80 * time.Second}, {6, 2 * time.Minute}, {7, 2 * time.Minute}, {100, 2 * time.Minute},
	} {
		for range 50 {
			got := DefaultBackoff(tt.attempt)
			lo, hi := tt.want*8/10, tt.want*12/10
			if got < lo || got > hi {
				t.Fatalf("DefaultBackoff(%d) = %v, want %v ±20%%", tt.attempt, got, tt.want)
			}
		}
	}
	// Within a backup link's 30 minutes, a failing message is tried often.
	var waited time.Duration
	tries := 0
	for waited < sparekey.BackupLinkTTL {
		tries++
		waited += DefaultBackoff(tries) * 12 / 10
	}
	if tries < 15 {
		t.Errorf("only %d tries within a link's life", tries)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+12015550101":    "+1201***0101",
		"ana@example.com": "a***@example.com",
		"":                "",
		"+1234":           "***",
		"@example.com":    "***",
		"garbage":         "***",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("550 no such user")
	if IsPermanent(base) || Permanent(nil) != nil {
		t.Fatal("plain errors and nil must not be permanent")
	}
	wrapped := fmt.Errorf("send: %w", Permanent(base))
	if !IsPermanent(wrapped) || !errors.Is(wrapped, base) || wrapped.Error() != "send: 550 no such user" {
		t.Errorf("wrapped = %v", wrapped)
	}
}

func TestErrorTextHidesRecipientAndLinks(t *testing.T) {
	err := errors.New(`provider said: bad body "Maple: your link https://k.example/b/AbC_-123xyz for +12015550101"`)
	got := errorText(err, "+12015550101")
	if strings.Contains(got, "AbC_-123xyz") || strings.Contains(got, "+12015550101") {
		t.Fatalf("errorText kept a secret: %s", got)
	}
	if !strings.Contains(got, "/b/…") {
		t.Fatalf("errorText = %s", got)
	}
}
