package upkeep

import (
	"fmt"
	"time"

	"sparekey"
)

// The staff console is English only, and so are the texts upkeep writes
// for it: work order summaries, timeline notes and audit details. These two
// say a rule and a duration the way people do; the console's settings page
// uses them too, so a rule reads the same there as in the audit log.

// DescribeRule is the rule as the console states it: "3 jams within 14
// days, or one jam not cleared within 30 minutes".
func DescribeRule(r sparekey.JamRule) string {
	jams := fmt.Sprintf("%d jams", r.Jams)
	if r.Jams == 1 {
		jams = "1 jam"
	}
	return fmt.Sprintf("%s within %s, or one jam not cleared within %s", jams, Span(r.Window), Span(r.Uncleared))
}

// Span writes a duration the way people say it: "14 days", "30 minutes",
// "1 hour 30 minutes".
func Span(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Hour:
		return unit(int64(d/time.Hour), "hour") + " " + unit(int64(d%time.Hour/time.Minute), "minute")
	default:
		return unit(int64(d/time.Minute), "minute")
	}
}
