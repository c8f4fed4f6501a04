package web

import (
	"testing"
	"time"

	"sparekey"
)

// n a minute per key, in any minute: a burst across a minute's turn gets
// no second n, and a key's allowance comes back as its hits age out.
func TestWindowLimiter(t *testing.T) {
	clock := sparekey.NewFixedClock(time.Date(2026, 3, 2, 9, 0, 59, 0, time.UTC))
	l := newWindowLimiter(3, clock)
	for i := range 3 {
		if !l.allow("a") {
			t.Fatalf("try %d refused, want allowed", i+1)
		}
	}
	clock.Advance(2 * time.Second) // the wall-clock minute turns
	if l.allow("a") {
		t.Error("a 4th try 2 s later, across the minute's turn, was allowed")
	}
	if !l.allow("b") {
		t.Error("another key was refused")
	}
	clock.Advance(58 * time.Second) // 60 s after the first three
	for i := range 3 {
		if !l.allow("a") {
			t.Fatalf("a minute later, try %d refused", i+1)
		}
	}
	if l.allow("a") {
		t.Error("a 4th try in the new minute was allowed")
	}
	clock.Advance(2 * time.Minute)
	l.allow("c") // sweeps the quiet keys
	if _, ok := l.hits["b"]; ok {
		t.Error("a key quiet for over a minute is still remembered")
	}
}
