// Package testkit holds the small helpers the packages' tests share. Only
// tests import it.
package testkit

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for a logger (or a command's output)
// and the test reading it at once.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// SameList fails the test when got and want differ (nil and empty are
// the same), showing both.
func SameList(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// Median is the middle of the durations (the upper one of an even count).
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// SameTime calls fn n times with true (a known account) and n times with
// false, alternating, and fails the test when the median time of one side
// is more than 1.5 times the other's (docs/security.md rule 2).
func SameTime(t testing.TB, n int, fn func(known bool)) {
	t.Helper()
	var known, unknown []time.Duration
	for i := range 2 * n {
		start := time.Now()
		fn(i%2 == 0)
		if d := time.Since(start); i%2 == 0 {
			known = append(known, d)
		} else {
			unknown = append(unknown, d)
		}
	}
	mk, mu := Median(known), Median(unknown)
	if ratio := float64(max(mk, mu)) / float64(min(mk, mu)); ratio > 1.5 {
		t.Fatalf("median known %v, unknown %v: one is %.1f× the other", mk, mu, ratio)
	}
	t.Logf("median known %v, unknown %v", mk, mu)
}

// SkipShort skips the test under go test -short, naming what it skips:
// the end-to-end, browser, load and timing tests, which go test ./...
// (and CI) still run.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: skips %s", what)
	}
}
