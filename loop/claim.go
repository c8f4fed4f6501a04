package loop

import (
	"context"
	"errors"
	"time"

	"sparekey"
)

// Claimed is a job whose requests are answered by whichever instance
// claims them: a pass claims a batch under a lease (so a request whose
// worker died is claimed again once its lease ends) and answers them one
// by one, each in its own transaction. Get Code and sign-in are such jobs.
type Claimed[T any] struct {
	// Claim takes up to a batch of requests under a lease of Lease, in a
	// transaction of Store.
	Claim func(ctx context.Context, tx sparekey.Tx) ([]T, error)
	Store sparekey.Store
	// Answer answers one claimed request and reports whether messages
	// were queued. An ECONFLICT means another worker took the request
	// over (its lease ran out): the answer is theirs, and no error.
	Answer func(ctx context.Context, request T) (queued bool, err error)
	Lease  time.Duration
	Clock  sparekey.Clock
	// Queued is called once after a pass that queued messages (to wake
	// the outbox).
	Queued func()
}

// RunOnce claims a batch and answers it; it returns how many requests it
// claimed and the errors of those it could not answer.
func (c Claimed[T]) RunOnce(ctx context.Context) (int, error) {
	var claimed []T
	err := c.Store.Tx(ctx, func(tx sparekey.Tx) (err error) {
		claimed, err = c.Claim(ctx, tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	// One request that cannot be answered must not hold up the others: its
	// lease runs out and a later pass tries it again.
	queued := false
	var errs []error
	// Start no answer in the second half of the lease: past it another
	// worker may take the request (an update under a lost lease is refused
	// anyway, but the work would be wasted).
	lastStart := c.Clock.Now().Add(c.Lease / 2)
	for _, r := range claimed {
		if c.Clock.Now().After(lastStart) {
			break // the rest are taken again after their lease
		}
		sent, err := c.Answer(ctx, r)
		if sparekey.ErrorCode(err) == sparekey.ECONFLICT {
			continue
		} else if err != nil {
			errs = append(errs, err)
		}
		queued = queued || sent
	}
	if queued && c.Queued != nil {
		c.Queued()
	}
	return len(claimed), errors.Join(errs...)
}
