package loop

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunsAtOnceThenOnWake(t *testing.T) {
	var passes atomic.Int32
	l := New(time.Hour, func(ctx context.Context) (bool, error) {
		passes.Add(1)
		return false, nil
	}, nil)
	l.Start(context.Background())
	defer l.Stop()
	waitFor(t, "the first pass", func() bool { return passes.Load() == 1 })
	l.Wake()
	waitFor(t, "a woken pass", func() bool { return passes.Load() == 2 })
	time.Sleep(20 * time.Millisecond)
	if n := passes.Load(); n != 2 {
		t.Fatalf("%d passes without a wake-up or the interval", n)
	}
}

func TestMoreRunsAgainAtOnce(t *testing.T) {
	var passes atomic.Int32
	l := New(time.Hour, func(ctx context.Context) (bool, error) {
		return passes.Add(1) < 5, nil
	}, nil)
	l.Start(context.Background())
	defer l.Stop()
	waitFor(t, "five passes", func() bool { return passes.Load() == 5 })
}

func TestIntervalAndErrors(t *testing.T) {
	var passes atomic.Int32
	var errs atomic.Int32
	l := New(time.Millisecond, func(ctx context.Context) (bool, error) {
		passes.Add(1)
		return true, errors.New("broken") // more is ignored after an error
	}, func(error) { errs.Add(1) })
	l.Start(context.Background())
	waitFor(t, "three failed passes", func() bool { return errs.Load() >= 3 })
	l.Stop()
	if passes.Load() < errs.Load() {
		t.Fatal("more errors than passes")
	}
}

func TestStopCancelsAPassAndReturns(t *testing.T) {
	entered := make(chan struct{})
	var reported atomic.Int32
	l := New(time.Hour, func(ctx context.Context) (bool, error) {
		close(entered)
		<-ctx.Done()
		return false, ctx.Err()
	}, func(error) { reported.Add(1) })
	l.Start(context.Background())
	<-entered
	stopped := make(chan struct{})
	go func() { l.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	if reported.Load() != 0 {
		t.Fatal("a pass cut short by Stop was reported as an error")
	}
	l.Stop() // twice is fine
}

func TestParentContextEndsTheLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var passes atomic.Int32
	l := New(time.Millisecond, func(ctx context.Context) (bool, error) {
		passes.Add(1)
		return false, nil
	}, nil)
	l.Start(ctx)
	l.Start(ctx) // starting twice runs one loop
	waitFor(t, "a pass", func() bool { return passes.Load() > 0 })
	cancel()
	done := l.done
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("loop still running after its context ended")
	}
	l.Stop()
}

func TestPanicIsReportedAndTheLoopGoesOn(t *testing.T) {
	var passes atomic.Int32
	var errs atomic.Int32
	l := New(time.Millisecond, func(ctx context.Context) (bool, error) {
		if passes.Add(1) == 1 {
			panic("bad row")
		}
		return false, nil
	}, func(err error) {
		if strings.Contains(err.Error(), "bad row") {
			errs.Add(1)
		}
	})
	l.Start(context.Background())
	defer l.Stop()
	waitFor(t, "passes after the panic", func() bool { return passes.Load() >= 3 })
	if errs.Load() != 1 {
		t.Fatalf("panic reported %d times, want 1", errs.Load())
	}
}

func TestJitterSpreadsWaits(t *testing.T) {
	l := New(time.Second, nil, nil).WithJitter(0.5)
	seen := map[time.Duration]bool{}
	for range 100 {
		w := l.wait()
		if w < 500*time.Millisecond || w > 1500*time.Millisecond {
			t.Fatalf("wait %v outside 1s±50%%", w)
		}
		seen[w] = true
	}
	if len(seen) < 50 {
		t.Fatalf("only %d distinct waits in 100", len(seen))
	}
	if w := New(time.Second, nil, nil).wait(); w != time.Second {
		t.Fatalf("no jitter: wait %v", w)
	}
}
