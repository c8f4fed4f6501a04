package loop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sparekey"
	"sparekey/loop"
)

// txStore runs a transaction with no Tx: the claims here read nothing.
type txStore struct{ sparekey.Store }

func (txStore) Tx(ctx context.Context, fn func(sparekey.Tx) error) error { return fn(nil) }

type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// A pass answers what it claimed: a request another worker took over is no
// error, a failed one does not hold up the rest, messages wake the outbox
// once, and no answer starts in the second half of the lease.
func TestClaimedRunOnce(t *testing.T) {
	t.Parallel()
	clock := &stepClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var answered []int
	woken := 0
	job := loop.Claimed[int]{
		Store: txStore{},
		Claim: func(context.Context, sparekey.Tx) ([]int, error) { return []int{1, 2, 3, 4, 5}, nil },
		Answer: func(_ context.Context, r int) (bool, error) {
			answered = append(answered, r)
			switch r {
			case 1:
				return false, sparekey.Errorf(sparekey.ECONFLICT, "taken over")
			case 2:
				return false, errors.New("broken")
			case 4:
				clock.now = clock.now.Add(31 * time.Second) // past half the lease
			}
			return true, nil
		},
		Lease: time.Minute, Clock: clock, Queued: func() { woken++ },
	}
	n, err := job.RunOnce(context.Background())
	if n != 5 {
		t.Errorf("claimed %d, want 5", n)
	}
	if err == nil || err.Error() != "broken" {
		t.Errorf("err = %v, want only the broken answer's", err)
	}
	if len(answered) != 4 || answered[3] != 4 {
		t.Errorf("answered %v, want 1 to 4: 5 would start past half the lease", answered)
	}
	if woken != 1 {
		t.Errorf("outbox woken %d times, want once", woken)
	}

	job.Claim = func(context.Context, sparekey.Tx) ([]int, error) { return nil, errors.New("no database") }
	if n, err := job.RunOnce(context.Background()); n != 0 || err == nil {
		t.Errorf("failed claim: %d, %v", n, err)
	}
	if woken != 1 {
		t.Errorf("outbox woken after a pass that queued nothing")
	}
}
