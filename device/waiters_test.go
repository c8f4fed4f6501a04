package device_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sparekey"
	"sparekey/device"
)

func TestWaiters(t *testing.T) {
	ctx := context.Background()
	var ws device.Waiters[int]

	t.Run("confirmed by the lock's report", func(t *testing.T) {
		w := ws.Add("front", func(r int) (bool, error) { return r == 7, nil })
		defer ws.Remove("front", w)
		ws.Report("back", 7) // another lock's report
		ws.Report("front", 3)
		if !ws.Waiting("front") {
			t.Fatal("waiter gone before its report")
		}
		go ws.Report("front", 7)
		if err := w.Wait(ctx, 5*time.Second); err != nil {
			t.Fatalf("Wait = %v", err)
		}
	})
	t.Run("refuted by the lock's report", func(t *testing.T) {
		jammed := sparekey.Errorf(sparekey.ELOCKJAMMED, "jammed")
		w := ws.Add("front", func(r int) (bool, error) { return r < 0, jammed })
		defer ws.Remove("front", w)
		ws.Report("front", -1)
		if err := w.Wait(ctx, time.Second); err != jammed {
			t.Fatalf("Wait = %v, want the jam", err)
		}
	})
	t.Run("the lock goes offline", func(t *testing.T) {
		a := ws.Add("front", func(int) (bool, error) { return false, nil })
		b := ws.Add("front", func(int) (bool, error) { return false, nil })
		other := ws.Add("back", func(int) (bool, error) { return false, nil })
		defer ws.Remove("back", other)
		ws.Fail("front", sparekey.Errorf(sparekey.ELOCKOFFLINE, "offline"))
		for _, w := range []*device.Waiter[int]{a, b} {
			if err := w.Wait(ctx, time.Second); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
				t.Fatalf("Wait = %v, want lock_offline", err)
			}
		}
		if ws.Waiting("front") || !ws.Waiting("back") {
			t.Fatal("Fail should end the failed lock's waiters only")
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		w := ws.Add("front", func(int) (bool, error) { return false, nil })
		if err := w.Wait(ctx, 20*time.Millisecond); !errors.Is(err, device.ErrUnconfirmed) {
			t.Fatalf("Wait = %v, want ErrUnconfirmed", err)
		}
		ws.Remove("front", w)
		if ws.Waiting("front") {
			t.Fatal("removed waiter still waiting")
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := ws.Add("front", func(int) (bool, error) { return false, nil }).Wait(cctx, time.Second); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with a cancelled context = %v", err)
		}
	})
}
