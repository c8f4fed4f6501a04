// Package loop runs one pass of background work over and over: at once,
// then every interval, or sooner when woken, until stopped. The reconciler,
// the Get Code job and the outbox worker each run on one. Claimed is the
// pass the Get Code and sign-in jobs share: claim a batch, answer each.
package loop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
)

// Pass does one round of work. more asks for the next pass right away
// (a full batch: more work is probably waiting).
type Pass func(ctx context.Context) (more bool, err error)

// Loop runs a Pass in a goroutine between Start and Stop.
type Loop struct {
	interval time.Duration
	jitter   float64
	pass     Pass
	onError  func(error)
	wake     chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a loop that runs pass every interval; onError hears about
// every failed pass except those cut short by Stop.
func New(interval time.Duration, pass Pass, onError func(error)) *Loop {
	return &Loop{interval: interval, pass: pass, onError: onError, wake: make(chan struct{}, 1)}
}

// WithJitter spreads the waits between passes uniformly over interval ±
// fraction·interval, so when a pass runs tells an observer little. It
// returns l and must be called before Start.
func (l *Loop) WithJitter(fraction float64) *Loop {
	l.jitter = min(max(fraction, 0), 1)
	return l
}

func (l *Loop) wait() time.Duration {
	if l.jitter == 0 {
		return l.interval
	}
	spread := (rand.Float64()*2 - 1) * l.jitter * float64(l.interval)
	return l.interval + time.Duration(spread)
}

// Start runs the loop until ctx ends or Stop is called. Starting a running
// loop does nothing.
func (l *Loop) Start(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go l.run(ctx, l.done)
}

// Stop ends the loop, cancelling a pass under way, and waits for it.
// Stopping a stopped loop does nothing.
func (l *Loop) Stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Wake makes the loop run a pass now instead of at the next interval. It
// never blocks; wake-ups that arrive during a pass fold into one.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// safePass runs the pass and turns a panic into an error, so one bad row
// cannot take the whole server down; the loop goes on after the interval.
func (l *Loop) safePass(ctx context.Context) (more bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			more, err = false, fmt.Errorf("background pass panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return l.pass(ctx)
}

func (l *Loop) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		more, err := l.safePass(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil && l.onError != nil {
			l.onError(err)
		}
		wait := l.wait()
		if more && err == nil {
			wait = 0
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-timer.C:
		}
	}
}
