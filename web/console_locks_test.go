package web

import (
	"testing"

	"sparekey/internal/testkit"
	"sparekey/upkeep"
)

// TestJamIssues: a door needs attention for its jams when 3 or more in 30
// days have come since its last work order was resolved; the jams the fix
// answered do not count again.
func TestJamIssues(t *testing.T) {
	for _, tc := range []struct {
		count upkeep.JamCount
		want  []string
	}{
		{upkeep.JamCount{}, nil},
		{upkeep.JamCount{Days30: 2, SinceFix: 2}, nil},
		{upkeep.JamCount{Days30: 3, SinceFix: 3}, []string{"3 jams in 30 days"}},
		{upkeep.JamCount{Days30: 3, SinceFix: 0, FixedBy: 1}, nil},
		{upkeep.JamCount{Days30: 5, SinceFix: 2, FixedBy: 1}, nil},
		{upkeep.JamCount{Days30: 6, SinceFix: 3, FixedBy: 4}, []string{"3 jams since work order #4 was resolved"}},
	} {
		testkit.SameList(t, "issues", jamIssues(tc.count), tc.want)
	}
}
