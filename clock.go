package sparekey

import (
	"sync"
	"time"
)

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// OffsetClock is a clock that can be moved forward: the demo's test clock
// (POST /api/v1/dev/clock) and tests use it. The zero value runs at wall time.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
	base   time.Time // when set, time stands still at base+offset
}

// NewFixedClock returns a clock that stands still at t until advanced.
func NewFixedClock(t time.Time) *OffsetClock { return &OffsetClock{base: t} }

// Now returns the wall time (or the fixed base) plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.base.IsZero() {
		return c.base.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *OffsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Offset is how far the clock has been moved forward in all.
func (c *OffsetClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}
