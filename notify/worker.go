package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"

	"time"

	"sparekey"
	"sparekey/loop"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Store holds the outbox. Required.
	Store sparekey.Store
	// Clock gives "now" for claims, backoff and sent_at. Default
	// sparekey.SystemClock.
	Clock sparekey.Clock
	// Transports sends each channel. Messages of a channel without a
	// transport stay queued.
	Transports map[sparekey.Channel]Transport
	// Logger gets one line per outcome, with a redacted recipient and never
	// a body. Default: discard.
	Logger *slog.Logger
	// PollInterval is how often the worker looks for due messages when
	// nobody calls Notify. Default 1s.
	PollInterval time.Duration
	// Lease is how long a claimed message is reserved for this worker; if
	// it is not recorded by then (a crash), it is sent again. Each send is
	// cut off at a quarter of the lease, and none starts after the first
	// quarter, so each is recorded well within it. Default 1m.
	Lease time.Duration
	// BatchSize is how many messages one pass claims. Default 10.
	BatchSize int
	// MaxAttempts is how many failed attempts abandon a message. Default
	// 12: with the default backoff, about 2.8 hours of a provider outage.
	MaxAttempts int
	// Backoff is the delay before retrying after the attempt-th failure
	// (1-based). Default DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// recordTimeout bounds recording an outcome, which runs even while the
// worker stops so that a message that went out is not sent again.
const recordTimeout = 10 * time.Second

// Worker sends the outbox: it claims due messages, sends each outside any
// transaction, and records the outcome. Delivery is at least once: a crash
// between sending and recording sends the message again after its lease.
type Worker struct {
	cfg      WorkerConfig
	log      *slog.Logger
	channels []sparekey.Channel
	loop     *loop.Loop
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
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 10
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	var channels []sparekey.Channel
	for ch, t := range cfg.Transports {
		if t != nil {
			channels = append(channels, ch)
		}
	}
	slices.Sort(channels)
	w := &Worker{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "notify"),
		channels: channels,
	}
	w.loop = loop.New(cfg.PollInterval, func(ctx context.Context) (bool, error) {
		n, err := w.RunOnce(ctx)
		return n == cfg.BatchSize, err // a full batch: more is probably due
	}, func(err error) { w.log.Error("outbox pass failed", "err", err) })
	return w
}

// DefaultBackoff waits 5s·2^(attempt-1), capped at 1h, with ±20% jitter so
// that messages failed together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 12 { // 5s·2^11 is past the cap already
		d = min(5*time.Second<<(attempt-1), time.Hour)
	}
	jitter := (rand.Float64()*0.4 - 0.2) * float64(d)
	return d + time.Duration(jitter)
}

// Start runs the worker in a goroutine until ctx ends or Stop is called.
// Starting a running worker does nothing.
func (w *Worker) Start(ctx context.Context) { w.loop.Start(ctx) }

// Stop stops the worker and waits for it. A send in flight is cut short and
// its message goes out again after the lease; an outcome already known is
// still recorded.
func (w *Worker) Stop() { w.loop.Stop() }

// Notify wakes the worker so a freshly queued message goes out now rather
// than at the next poll. It never blocks.
func (w *Worker) Notify() { w.loop.Wake() }

// RunOnce claims one batch of due messages and tries each. It returns how
// many messages it tried; the error joins claim and record failures (a send
// failure is an outcome, not an error).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if len(w.channels) == 0 {
		return 0, nil
	}
	now := w.cfg.Clock.Now()
	var batch []*sparekey.Message
	// The claim commits before anything is sent, so no other worker or
	// instance takes these messages while we hold their lease.
	err := w.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		var err error
		batch, err = tx.ClaimMessages(ctx, w.channels, now, w.cfg.Lease, w.cfg.BatchSize)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("notify: claim messages: %w", err)
	}

	// Stop starting sends once a send and the recording of its outcome
	// might outlast the lease: another worker could then claim the same
	// message and send it twice. Every send ends by half the lease, which
	// leaves the other half for recording it.
	sendTimeout := w.cfg.Lease / 4
	lastStart := now.Add(w.cfg.Lease / 4)
	var errs []error
	tried := 0
	for _, m := range batch {
		if ctx.Err() != nil || w.cfg.Clock.Now().After(lastStart) {
			break // the rest keep their lease and are claimed again after it
		}
		tried++
		if err := w.deliver(ctx, m, sendTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	return tried, errors.Join(errs...)
}

// deliver sends one claimed message and records the outcome in a new Tx.
func (w *Worker) deliver(ctx context.Context, m *sparekey.Message, timeout time.Duration) error {
	var providerID string
	var sendErr error
	if t := w.cfg.Transports[m.Channel]; t == nil {
		sendErr = fmt.Errorf("notify: no transport for channel %q", m.Channel)
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, timeout)
		providerID, sendErr = t.Send(sendCtx, m)
		cancel()
	}
	if sendErr != nil && ctx.Err() != nil {
		// Cut short by Stop, not refused: leave the lease to expire so the
		// message is retried without counting an attempt.
		return nil
	}

	now := w.cfg.Clock.Now()
	m.Attempts++
	attrs := []any{"message_id", m.ID, "channel", m.Channel, "kind", m.Kind,
		"attempt", m.Attempts, "to", redact(m.To)}
	action, level, logMsg := "message.sent", slog.LevelInfo, "message sent"
	switch {
	case sendErr == nil:
		m.Status, m.SentAt, m.ProviderID, m.LastError = sparekey.MessageSent, &now, providerID, ""
		attrs = append(attrs, "provider_id", providerID)
	case IsPermanent(sendErr) || m.Attempts >= w.cfg.MaxAttempts:
		m.Status, m.LastError = sparekey.MessageAbandoned, errorText(sendErr, m.To)
		action, level, logMsg = "message.abandoned", slog.LevelError, "message abandoned"
		attrs = append(attrs, "permanent", IsPermanent(sendErr), "err", m.LastError)
	default:
		delay := w.cfg.Backoff(m.Attempts)
		m.Status, m.LastError = sparekey.MessageFailed, errorText(sendErr, m.To)
		m.NextAttemptAt = now.Add(delay)
		action, level, logMsg = "message.failed", slog.LevelWarn, "message send failed; will retry"
		attrs = append(attrs, "retry_in", delay, "err", m.LastError)
	}
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
