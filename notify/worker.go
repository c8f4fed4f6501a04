package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"sparekey"
	"sparekey/loop"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Store holds the outbox. Required.
	Store sparekey.Store
	// Clock gives "now" for claims, backoff, expiry and sent_at. Default
	// sparekey.SystemClock.
	Clock sparekey.Clock
	// Transports sends each channel. Messages of a channel without a
	// transport stay queued. Each channel (one provider) has its own
	// senders, so a hung provider holds up only its own messages.
	Transports map[sparekey.Channel]Transport
	// Logger gets one line per outcome, with a redacted recipient and never
	// a body. Default: discard.
	Logger *slog.Logger
	// PollInterval is how often each channel looks for due messages when
	// nobody calls Notify. Default 1s.
	PollInterval time.Duration
	// Lease is how long a claimed message is reserved for this worker; if
	// it is not recorded by then (a crash), it is sent again. Every claimed
	// message starts sending at once and is cut off at a quarter of the
	// lease, so each is recorded well within it. Default 1m.
	Lease time.Duration
	// Senders is how many messages of one channel are sent at once: a
	// message is claimed only when a sender is free for it, and a sender
	// that finishes takes the next at once. Default 4.
	Senders int
	// MaxAttempts is how many failed attempts abandon a message. Default
	// 100: with the default backoff, about 3 hours of a provider outage.
	MaxAttempts int
	// Backoff is the delay before retrying after the attempt-th failure
	// (1-based), unless the provider said when to retry (Retry-After).
	// Default DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// recordTimeout bounds recording an outcome, which runs even while the
// worker stops so that a message that went out is not sent again.
const recordTimeout = 10 * time.Second

// Worker sends the outbox: for each channel, it claims due messages, sends
// them in parallel outside any transaction, and records each outcome.
// Delivery is at least once: a crash between sending and recording sends
// the message again after its lease.
type Worker struct {
	cfg   WorkerConfig
	log   *slog.Logger
	lanes []*lane
}

// lane is one channel's senders: its own claims, its own loop, and a slot
// per sender. A pass claims only as many messages as there are free slots
// and starts each at once; a sender that finishes frees its slot and wakes
// the loop, so one slow send never holds up the messages behind it.
type lane struct {
	channel   sparekey.Channel
	transport Transport
	loop      *loop.Loop
	slots     chan struct{} // one token per send in flight
	sending   sync.WaitGroup
}

// NewWorker returns a Worker with defaults filled in. It panics without a
// Store: that is a wiring bug, found at startup.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Store == nil {
		panic("notify: WorkerConfig.Store is nil")
	}
	if cfg.Clock == nil {
		cfg.Clock = sparekey.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 4
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 100
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	w := &Worker{cfg: cfg, log: cfg.Logger.With("component", "notify")}
	for _, ch := range slices.Sorted(maps.Keys(cfg.Transports)) {
		if cfg.Transports[ch] == nil {
			continue
		}
		l := &lane{channel: ch, transport: cfg.Transports[ch], slots: make(chan struct{}, cfg.Senders)}
		l.loop = loop.New(cfg.PollInterval, func(ctx context.Context) (bool, error) {
			// A failed record is logged where it happens; nothing to add.
			free, n, err := w.startSends(ctx, l, func(error) {})
			return free > 0 && n == free, err // every free sender busy: more is probably due
		}, func(err error) { w.log.Error("outbox pass failed", "channel", ch, "err", err) })
		w.lanes = append(w.lanes, l)
	}
	return w
}

// maxBackoff caps the wait between tries: a backup link lives 30 minutes,
// and a message should be tried often within that, not once an hour.
const maxBackoff = 2 * time.Minute

// DefaultBackoff waits 5s·2^(attempt-1), capped at 2 minutes, with ±20%
// jitter so that messages failed together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 6 { // 5s·2^5 is past the cap already
		d = min(5*time.Second<<(attempt-1), maxBackoff)
	}
	jitter := (rand.Float64()*0.4 - 0.2) * float64(d)
	return d + time.Duration(jitter)
}

// Start runs each channel's senders in goroutines until ctx ends or Stop
// is called. Starting a running worker does nothing.
func (w *Worker) Start(ctx context.Context) {
	for _, l := range w.lanes {
		l.loop.Start(ctx)
	}
}

// Stop stops the worker and waits for it. A send in flight is cut short and
// its message goes out again after the lease; an outcome already known is
// still recorded.
func (w *Worker) Stop() {
	for _, l := range w.lanes {
		l.loop.Stop()
		l.sending.Wait()
	}
}

// Notify wakes the worker so a freshly queued message goes out now rather
// than at the next poll. It never blocks.
func (w *Worker) Notify() {
	for _, l := range w.lanes {
		l.loop.Wake()
	}
}

// RunOnce runs one pass of every channel at once and waits for its sends,
// for a worker that was not started (tests, one-off runs). It returns how many messages it tried; the error joins claim and record
// failures (a send failure is an outcome, not an error).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tried, errs := 0, []error{}
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for _, l := range w.lanes {
		wg.Go(func() {
			_, n, err := w.startSends(ctx, l, report)
			l.sending.Wait()
			report(err)
			mu.Lock()
			defer mu.Unlock()
			tried += n
		})
	}
	wg.Wait()
	return tried, errors.Join(errs...)
}

// startSends claims as many due messages of one channel as it has free
// senders and starts sending each at once; report hears each failure to
// record an outcome. It returns the free senders, the messages claimed
// and a claim error.
func (w *Worker) startSends(ctx context.Context, l *lane, report func(error)) (free, claimed int, err error) {
	// Take the free slots first, so two passes never claim for the same.
reserve:
	for free < cap(l.slots) {
		select {
		case l.slots <- struct{}{}:
			free++
		default:
			break reserve
		}
	}
	if free == 0 {
		return 0, 0, nil // a sender that finishes wakes the loop
	}
	now := w.cfg.Clock.Now()
	var batch []*sparekey.Message
	// The claim commits before anything is sent, so no other worker or
	// instance takes these messages while we hold their lease.
	err = w.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		var err error
		batch, err = tx.ClaimMessages(ctx, []sparekey.Channel{l.channel}, now, w.cfg.Lease, free)
		return err
	})
	for range free - len(batch) {
		<-l.slots // not needed: nothing more was due
	}
	if err != nil {
		return free, 0, fmt.Errorf("notify: claim %s messages: %w", l.channel, err)
	}
	// Every send ends by a quarter of the lease (the transports' own
	// timeouts are shorter), which leaves the rest for recording it before
	// another worker could claim the message and send it twice.
	sendTimeout := w.cfg.Lease / 4
	for _, m := range batch {
		l.sending.Go(func() {
			defer func() {
				<-l.slots
				l.loop.Wake()
			}()
			defer func() {
				// A sender runs outside the loop, which would recover a
				// panic: one bad message must not take the server down.
				if v := recover(); v != nil {
					report(fmt.Errorf("notify: sending message %d panicked: %v\n%s", m.ID, v, debug.Stack()))
					w.log.Error("outbox send panicked", "message_id", m.ID, "panic", v)
				}
			}()
			if err := w.deliver(ctx, l.transport, m, sendTimeout); err != nil {
				report(err)
			}
		})
	}
	return free, len(batch), nil
}

// deliver sends one claimed message and records the outcome in a new Tx. A
// message whose link or code has expired is not sent: it ends expired.
func (w *Worker) deliver(ctx context.Context, t Transport, m *sparekey.Message, timeout time.Duration) error {
	if expired(m, w.cfg.Clock.Now()) {
		m.Status = sparekey.MessageExpired
		return w.record(ctx, m, "message.expired", slog.LevelWarn, "message expired before it could be sent",
			"attempt", m.Attempts, "last_error", m.LastError)
	}
	sendCtx, cancel := context.WithTimeout(ctx, timeout)
	providerID, sendErr := t.Send(sendCtx, m)
	cancel()
	if sendErr != nil && ctx.Err() != nil {
		// Cut short by Stop, not refused: leave the lease to expire so the
		// message is retried without counting an attempt.
		return nil
	}

	now := w.cfg.Clock.Now()
	m.Attempts++
	attrs := []any{"attempt", m.Attempts}
	if sendErr == nil {
		m.Status, m.SentAt, m.ProviderID, m.LastError = sparekey.MessageSent, &now, providerID, ""
		return w.record(ctx, m, "message.sent", slog.LevelInfo, "message sent", append(attrs, "provider_id", providerID)...)
	}
	m.LastError = errorText(sendErr, m.To)
	attrs = append(attrs, "err", m.LastError)
	if IsPermanent(sendErr) || m.Attempts >= w.cfg.MaxAttempts {
		m.Status = sparekey.MessageAbandoned
		return w.record(ctx, m, "message.abandoned", slog.LevelError, "message abandoned",
			append(attrs, "permanent", IsPermanent(sendErr))...)
	}
	delay, asked := retryAfter(sendErr)
	if !asked {
		delay = w.cfg.Backoff(m.Attempts)
	}
	m.NextAttemptAt = now.Add(delay)
	if expired(m, m.NextAttemptAt) {
		// Its next try would send a dead link: end it now, so the metrics
		// say so at once.
		m.Status = sparekey.MessageExpired
		return w.record(ctx, m, "message.expired", slog.LevelWarn, "message expires before it could be retried",
			append(attrs, "retry_in", delay)...)
	}
	m.Status = sparekey.MessageFailed
	return w.record(ctx, m, "message.failed", slog.LevelWarn, "message send failed; will retry",
		append(attrs, "retry_in", delay, "retry_after", asked)...)
}

// expired reports whether m is no longer worth sending at t.
func expired(m *sparekey.Message, t time.Time) bool {
	return !m.ValidUntil.IsZero() && !t.Before(m.ValidUntil)
}

// record writes m's outcome and its audit line in one Tx, then logs it.
func (w *Worker) record(ctx context.Context, m *sparekey.Message, action string, level slog.Level, logMsg string, attrs ...any) error {
	now := w.cfg.Clock.Now()
	attrs = append([]any{"message_id", m.ID, "channel", m.Channel, "kind", m.Kind, "to", redact(m.To)}, attrs...)
	event := &sparekey.AuditEvent{
		At:      now,
		Actor:   "system",
		Action:  action,
		Subject: fmt.Sprintf("message:%d", m.ID),
		Detail: map[string]string{
			"channel": string(m.Channel),
			"kind":    m.Kind,
			"attempt": fmt.Sprint(m.Attempts),
		},
	}

	// Record even while stopping: forgetting a sent message sends it twice.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := w.cfg.Store.Tx(rctx, func(tx sparekey.Tx) error {
		if err := tx.UpdateMessage(rctx, m); err != nil {
			return err
		}
		return tx.RecordAudit(rctx, event)
	})
	if err != nil {
		w.log.Error("recording message outcome failed; it will be sent again after the lease",
			append(attrs, "outcome", action, "store_err", err)...)
		return fmt.Errorf("notify: record message %d: %w", m.ID, err)
	}
	w.log.Log(rctx, level, logMsg, attrs...)
	return nil
}
