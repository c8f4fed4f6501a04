//go:build !race

// Parsing MaxRows rows takes about 40 s under the race detector, so this
// test runs only without it.

package roster_test

import (
	"fmt"
	"strings"
	"testing"

	"sparekey/internal/testkit"
	"sparekey/roster"
)

func TestParseCSVMaxRows(t *testing.T) {
	testkit.SkipShort(t, "the load test (a roster of MaxRows+1 rows, seconds of parsing)")
	t.Parallel()
	var b strings.Builder
	b.WriteString(header)
	for i := range roster.MaxRows + 1 {
		fmt.Fprintf(&b, "Birch,%d,b-%d,R%d,r%d@example.com,+1201%03d%04d\n", i, i, i, i, 200+i/10000, i%10000)
	}
	_, err := roster.ParseCSV(strings.NewReader(b.String()), "US")
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", roster.MaxRows+2)) {
		t.Fatalf("file with %d rows: %v", roster.MaxRows+1, err)
	}
}
