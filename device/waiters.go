package device

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrUnconfirmed is what Waiter.Wait returns when the lock did not confirm
// the command in time; the driver words it for its locks (ELOCKTIMEOUT).
var ErrUnconfirmed = errors.New("the lock did not confirm the command in time")

// Waiters holds the commands waiting, per lock, for the lock's own report
// that confirms them. R is what a driver makes of one report. The zero
// value is ready to use; it is safe for concurrent use.
type Waiters[R any] struct {
	mu      sync.Mutex
	pending map[string]map[*Waiter[R]]struct{}
}

// Waiter is one command waiting for its confirmation.
type Waiter[R any] struct {
	// match decides on a report: done once it confirms (err nil) or
	// refutes (err) the command.
	match func(R) (done bool, err error)
	done  chan error
}

// Add registers a command to the lock, confirmed by the first report that
// match calls done. Remove it when the command is over.
func (ws *Waiters[R]) Add(device string, match func(R) (done bool, err error)) *Waiter[R] {
	w := &Waiter[R]{match: match, done: make(chan error, 1)}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.pending == nil {
		ws.pending = map[string]map[*Waiter[R]]struct{}{}
	}
	if ws.pending[device] == nil {
		ws.pending[device] = map[*Waiter[R]]struct{}{}
	}
	ws.pending[device][w] = struct{}{}
	return w
}

// Remove forgets a waiter, answered or not.
func (ws *Waiters[R]) Remove(device string, w *Waiter[R]) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.pending[device], w)
	if len(ws.pending[device]) == 0 {
		delete(ws.pending, device)
	}
}

// Waiting reports whether a command to the lock waits for a report.
func (ws *Waiters[R]) Waiting(device string) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.pending[device]) > 0
}

// Report offers one report of the lock to its waiters; those it answers
// are done and forgotten.
func (ws *Waiters[R]) Report(device string, r R) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.pending[device] {
		if done, err := w.match(r); done {
			w.finish(err)
			delete(ws.pending[device], w)
		}
	}
}

// Fail ends every command waiting on the lock with err: it went offline,
// or its hub said the command could not be sent.
func (ws *Waiters[R]) Fail(device string, err error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.pending[device] {
		w.finish(err)
	}
	delete(ws.pending, device)
}

func (w *Waiter[R]) finish(err error) {
	select {
	case w.done <- err:
	default:
	}
}

// Wait returns the lock's answer: nil when a report confirmed the
// command, the error a report or Fail gave, ErrUnconfirmed after timeout,
// or ctx's error.
func (w *Waiter[R]) Wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-w.done:
		return err
	case <-t.C:
		return ErrUnconfirmed
	case <-ctx.Done():
		return ctx.Err()
	}
}
